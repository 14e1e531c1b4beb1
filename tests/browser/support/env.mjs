// Settings of the browser tests, from the environment (scripts/test.d/40-browser.sh sets them).
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** `loopback` or `mdns`: which namespace the tests run in (see netns-run.sh). */
export const NET_MODE = process.env.PEERCHAT_NETNS ?? 'none';

/** The `peerchat` binary (CLI: `serve`, `create`, `join`). */
export const PEERCHAT_BIN = process.env.PEERCHAT_BIN ?? join(repo, 'target/debug/peerchat');

/** Where screenshots and browser logs go (gitignored). */
export const ARTIFACTS_DIR = process.env.PEERCHAT_ARTIFACTS ?? join(repo, 'artifacts/browser');

/** Debian's Chromium; tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Upper bound (ms) for any single wait on the UI or a process. */
export const WAIT_MS = 20_000;

/** True when Chromium should expose 127.0.0.1 host candidates rather than mDNS names. */
export const LOOPBACK = NET_MODE !== 'mdns';

if (NET_MODE === 'none') {
  throw new Error('browser tests must run inside a private network namespace: use tests/browser/support/netns-run.sh');
}
