// The signaling server under test: `peerchat serve` on 127.0.0.1:<free port>, serving the web
// client at `/` and signaling at `/ws`.
import { setTimeout as delay } from 'node:timers/promises';
import { PEERCHAT_BIN } from './env.mjs';
import { Proc, freePort } from './processes.mjs';

/** Attempts × interval (ms) of the bounded wait for `/health` to answer. */
const HEALTH_ATTEMPTS = 200;
const HEALTH_INTERVAL_MS = 50;

/**
 * Starts the server and waits until `GET /health` answers. Returns `{proc, baseUrl, wsUrl}`.
 * `PEERCHAT_SERVER_CMD` may replace the command (`{port}` is substituted), e.g. for a server
 * built on its own.
 */
export async function startServer() {
  const port = await freePort();
  const custom = process.env.PEERCHAT_SERVER_CMD;
  const [cmd, ...args] = custom
    ? custom.split(' ').map((a) => a.replaceAll('{port}', String(port)))
    : [PEERCHAT_BIN, 'serve', '--bind', `127.0.0.1:${port}`];
  const proc = new Proc('server', cmd, args, { env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' } });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < HEALTH_ATTEMPTS; attempt++) {
    if (proc.exited) throw new Error(`server exited early\n${proc.describe()}`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return { proc, baseUrl, wsUrl: `ws://127.0.0.1:${port}/ws` };
    } catch {
      // not listening yet
    }
    await delay(HEALTH_INTERVAL_MS);
  }
  await proc.stop();
  throw new Error(`server did not answer /health within ${HEALTH_ATTEMPTS * HEALTH_INTERVAL_MS} ms\n${proc.describe()}`);
}
