// Bundles the example app (../App.tsx, ../src) for the browser with esbuild:
//   react-native           → react-native-web
//   react-native-peerchat  → ../../src (the package source; `.web.ts` files win, so the module
//                             is src/NativePeerChat.web.ts: WebSocket + RTCPeerConnection)
//   react, react-dom       → this directory's node_modules (one copy of React)
// Output: dist/{index.html, app.js}. The default signaling URL shown on Home is
// EXPO_PUBLIC_SIGNALING_URL at build time, else ws://127.0.0.1:7777/ws.
//
//   node build.mjs              build once
//   node build.mjs --serve [P]  build, then serve dist/ on http://127.0.0.1:P (default 8081)
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, 'dist');
const modules = join(here, 'node_modules');

/** Builds dist/; resolves with esbuild's result (warnings, metafile). */
export async function build({ signalingUrl = process.env.EXPO_PUBLIC_SIGNALING_URL ?? 'ws://127.0.0.1:7777/ws' } = {}) {
  await mkdir(DIST, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(here, 'entry.ts')],
    outfile: join(DIST, 'app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    minify: false,
    sourcemap: true,
    logLevel: 'warning',
    resolveExtensions: ['.web.tsx', '.web.ts', '.web.js', '.tsx', '.ts', '.js', '.mjs', '.json'],
    mainFields: ['browser', 'module', 'main'],
    alias: {
      'react-native': join(modules, 'react-native-web'),
      'react-native-peerchat': resolve(here, '..', '..', 'src', 'index.ts'),
      react: join(modules, 'react'),
      'react-dom': join(modules, 'react-dom'),
    },
    define: {
      'process.env.EXPO_PUBLIC_SIGNALING_URL': JSON.stringify(signalingUrl),
      'process.env.NODE_ENV': '"production"',
      __DEV__: 'false',
    },
    metafile: true,
  });
  await copyFile(join(here, 'index.html'), join(DIST, 'index.html'));
  return result;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

/** Serves dist/ on 127.0.0.1:`port` (0 = a free one); resolves with `{server, url}`. */
export function serve(port = 0) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
    const file = join(DIST, path === '' ? 'index.html' : path);
    if (!file.startsWith(DIST)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const result = await build();
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  console.log(`built ${join(DIST, 'app.js')} (${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
  const i = process.argv.indexOf('--serve');
  if (i >= 0) {
    const { url } = await serve(Number(process.argv[i + 1] ?? 8081));
    console.log(`serving ${DIST} at ${url}`);
  }
}
