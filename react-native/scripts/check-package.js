#!/usr/bin/env node
// Checks the package as npm would publish it, after `bob build` (npm ci runs it as `prepare`):
//  1. `npm pack --dry-run --json` lists the build output (lib/module, lib/typescript), the
//     sources, the native code and the Expo plugin, and no tests;
//  2. every path named by `main`, `types` and `exports` is in the tarball;
//  3. the tarball, unpacked into a scratch node_modules, type-checks a consumer that imports
//     the public API through the package's `exports` (TypeScript `moduleResolution: bundler`,
//     as Metro and React Native apps resolve it), so a missing export or a broken .d.ts fails.
// Exits non-zero with one line per problem.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const pkgDir = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const problems = [];

const packJson = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
  cwd: pkgDir,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
});
const files = new Set(JSON.parse(packJson)[0].files.map((f) => f.path));

const required = [
  'lib/module/index.js',
  'lib/module/engine.js',
  'lib/module/NativePeerChat.js',
  'lib/module/NativePeerChat.web.js',
  'lib/typescript/src/index.d.ts',
  'lib/typescript/src/NativePeerChat.d.ts',
  'src/index.ts',
  'src/NativePeerChat.ts',
  'android/build.gradle',
  'android/src/main/java/com/peerchat/PeerChatModule.kt',
  'ios/PeerChat.mm',
  'PeerChat.podspec',
  'app.plugin.js',
  'plugin/build/index.js',
];
for (const f of required) if (!files.has(f)) problems.push(`npm pack does not list ${f}`);
for (const f of files) {
  if (/(^|\/)__tests__\//.test(f) || f.startsWith('example/') || f.startsWith('scripts/')) {
    problems.push(`npm pack lists ${f}, which must not be published`);
  }
}

const named = [pkg.main, pkg.types];
for (const [sub, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') named.push(target);
  else for (const [cond, p] of Object.entries(target)) if (cond !== 'source') named.push(p);
  void sub;
}
for (const p of named) {
  const rel = p.replace(/^\.\//, '');
  if (!files.has(rel)) problems.push(`package.json names ${p}, which npm pack does not list`);
}

// 3. Unpack the real tarball and type-check a consumer against it.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'peerchat-pack-'));
try {
  const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], {
    cwd: pkgDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .pop();
  const nm = path.join(tmp, 'node_modules');
  fs.mkdirSync(path.join(nm, '@types'), { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', tmp]);
  fs.renameSync(path.join(tmp, 'package'), path.join(nm, 'react-native-peerchat'));
  for (const dep of ['react', 'react-native', '@types/react']) {
    fs.symlinkSync(path.join(pkgDir, 'node_modules', dep), path.join(nm, dep));
  }
  fs.writeFileSync(
    path.join(tmp, 'consumer.ts'),
    `import { createEngine, usePeerChat, PeerChatError, PEERCHAT_ERROR_CODES } from 'react-native-peerchat';
import type { PeerChatEngine, PeerChatConfig, RoomInfo, ChatMessage, PeerState } from 'react-native-peerchat';
const config: PeerChatConfig = { signalingUrl: 'ws://127.0.0.1:1/ws', displayName: 'A', iceTransportPolicy: 'relay' };
export async function use(): Promise<[RoomInfo, string | null, number, PeerChatEngine]> {
  const engine = await createEngine(config);
  engine.on('message', (m: ChatMessage) => void m.text);
  engine.on('peerState', (e: { peerId: string; state: PeerState }) => void e.state);
  return [await engine.createRoom(), await engine.roomCode(), await engine.connectedPeers(), engine];
}
export const values = [usePeerChat, PeerChatError, PEERCHAT_ERROR_CODES.length];
`,
  );
  fs.writeFileSync(
    path.join(tmp, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'ESNext',
        moduleResolution: 'bundler',
        target: 'ES2022',
        lib: ['ES2022'],
        jsx: 'react-jsx',
        skipLibCheck: true,
        types: [],
      },
      files: ['consumer.ts'],
    }),
  );
  try {
    execFileSync(path.join(pkgDir, 'node_modules', '.bin', 'tsc'), ['-p', tmp], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    problems.push(`a consumer of the packed package does not type-check:\n${e.stdout}${e.stderr}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (problems.length > 0) {
  for (const p of problems) console.error(`check-package: ${p}`);
  process.exit(1);
}
console.log(`check-package: ok (${files.size} files in the tarball, ${required.length} required ones present; a consumer type-checks against lib/typescript)`);
