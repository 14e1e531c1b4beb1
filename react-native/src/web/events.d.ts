/** The `EventTarget` surface the browser modules use (declared here: the package builds without the DOM lib). */
export interface DetailEvent<T> {
  readonly detail: T;
}
export interface DetailEventTarget<Events> {
  addEventListener<K extends keyof Events & string>(type: K, listener: (event: DetailEvent<Events[K]>) => void): void;
  removeEventListener<K extends keyof Events & string>(type: K, listener: (event: DetailEvent<Events[K]>) => void): void;
}
