// Child processes of a test (signaling server, CLI peers): spawned, read line by line, and
// always killed at the end.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { WAIT_MS } from './env.mjs';

const running = new Set();

/** A free TCP port on 127.0.0.1 (inside the test's private namespace nobody else binds). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A spawned process whose stdout lines can be awaited.
 * `lines` holds every stdout line so far; `stderr` the stderr text.
 */
export class Proc {
  constructor(label, cmd, args, options = {}) {
    this.label = label;
    this.lines = [];
    this.stderr = '';
    this.waiters = [];
    this.exited = null;
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    running.add(this);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.#check();
    });
    this.child.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        running.delete(this);
        this.#check();
        resolve(this.exited);
      });
      this.child.on('error', (err) => {
        this.exited = { code: null, signal: null, error: err };
        running.delete(this);
        this.#check();
        resolve(this.exited);
      });
    });
  }

  /**
   * Resolves with the first stdout line at index >= `from` matching `re` (a RegExp), and its
   * index; rejects when the process exits first or after `timeoutMs`.
   */
  waitForLine(re, { from = 0, timeoutMs = WAIT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const waiter = { re, from, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no line matching ${re} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.#check();
    });
  }

  /** Writes one line to stdin. */
  writeLine(text) {
    this.child.stdin.write(`${text}\n`);
  }

  /** The recent output, for failure messages. */
  describe() {
    return `--- ${this.label} stdout (last 40 lines):\n${this.lines.slice(-40).join('\n')}\n` +
      `--- ${this.label} stderr (tail):\n${this.stderr.slice(-4000)}`;
  }

  /** SIGKILLs the process (no goodbye of any kind, as a crash) and waits for it to exit. */
  async kill() {
    if (this.exited) return this.exited;
    this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  /** Kills the process (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
  async stop() {
    if (this.exited) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    const result = await this.exitPromise;
    clearTimeout(timer);
    return result;
  }

  #check() {
    for (const w of [...this.waiters]) {
      const index = this.lines.findIndex((line, i) => i >= w.from && w.re.test(line));
      if (index >= 0) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve({ line: this.lines[index], index });
      } else if (this.exited) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.reject(new Error(`${this.label} exited (${JSON.stringify(this.exited)}) before printing ${w.re}\n${this.describe()}`));
      }
    }
  }
}

/** Stops every process still running (call from `after`). */
export async function stopAll() {
  await Promise.all([...running].map((p) => p.stop()));
}
