// Shared by the Node launchers: command-line options and the JSON-lines stdin/stdout loop.
import { createInterface } from 'node:readline';

/** `--key value` and `--flag` options of argv. */
export function options(argv = process.argv.slice(2)) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) o[key] = argv[++i];
    else o[key] = true;
  }
  if (!o.url || !o.name) throw new Error('usage: --url ws://host:port/ws --name NAME [--no-hello] [--hello-name N]');
  return o;
}

/** Writes one event as a JSON line on stdout. */
export function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Calls `handle` with each JSON line of stdin; `onEnd` when stdin closes. */
export function commands(handle, onEnd) {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim()) handle(JSON.parse(line));
  });
  rl.on('close', onEnd);
}
