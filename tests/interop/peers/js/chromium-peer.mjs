// The stranger peer in Debian's Chromium (libwebrtc), driven by playwright-core: stranger.js
// runs in a page of the signaling server's own origin (its /health document, so that the page
// runs no peerchat code), with the browser's RTCPeerConnection and WebSocket. Chromium gets
// --allow-loopback-in-peer-connection and camera/microphone permission so that, in a
// namespace with only loopback, its host candidates are 127.0.0.1 (see field notes).
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { commands, emit, options } from './lines.js';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.local',
  '--disable-features=NetworkTimeServiceQuerying,OptimizationHints,PreconnectToSearch,MediaRouter',
  '--allow-loopback-in-peer-connection',
];

const o = options();
const origin = new URL(o.url.replace(/^ws/, 'http')).origin;
const profile = await mkdtemp(join(tmpdir(), 'peerchat-interop-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: FLAGS,
  timeout: 30_000,
});
await context.grantPermissions(['camera', 'microphone'], { origin });
const page = context.pages()[0] ?? (await context.newPage());
page.on('pageerror', (e) => emit({ event: 'error', code: 'pageerror', message: e.message }));
await page.exposeFunction('__emit', emit);
await page.goto(`${origin}/health`);
const source = await readFile(new URL('./stranger.js', import.meta.url), 'utf8');
await page.addScriptTag({ content: source.replace(/^export /gm, '') });
await page.evaluate(async ({ url, name, sendHello, helloName }) => {
  window.__command = await startStranger({
    RTCPeerConnection, WebSocket, url, name, emit: (e) => window.__emit(e), sendHello, helloName,
  });
}, { url: o.url, name: o.name, sendHello: !o['no-hello'], helloName: o['hello-name'] ?? o.name });

let pending = Promise.resolve();
commands(
  (cmd) => { pending = pending.then(() => page.evaluate((c) => window.__command(c), cmd)); },
  async () => {
    await pending.catch(() => {});
    await context.close();
    await rm(profile, { recursive: true, force: true });
    process.exit(0);
  },
);
