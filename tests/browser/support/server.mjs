// The signaling server under test: `peerchat serve --port 0` on 127.0.0.1, serving the web
// client at `/` and signaling at `/ws`.
import { PEERCHAT_BIN } from './env.mjs';
import { Proc } from './processes.mjs';

/** The line `peerchat serve` prints once it listens (cli/src/serve.rs). */
const LISTENING = /^listening on ws:\/\/(127\.0\.0\.1:\d+)\/ws$/;

/**
 * Starts the server on `port` (default 0: a free one) and waits for its `listening on` line.
 * Returns `{proc, baseUrl, wsUrl, port}`; rejects with the server's output if it exits or stays
 * silent. `extraArgs` go to `peerchat serve` (e.g. `--room-capacity 3`).
 */
export async function startServer(extraArgs = [], { port = 0 } = {}) {
  const proc = new Proc('server', PEERCHAT_BIN, ['serve', '--bind', '127.0.0.1', '--port', String(port), ...extraArgs]);
  const { line } = await proc.waitForLine(LISTENING);
  const addr = LISTENING.exec(line)[1];
  return { proc, baseUrl: `http://${addr}`, wsUrl: `ws://${addr}/ws`, port: Number(addr.split(':')[1]) };
}
