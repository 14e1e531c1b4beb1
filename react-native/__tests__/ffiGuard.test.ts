/**
 * The uniffi ↔ React Native guard (scripts/ffi-guard.js) passes on the repository as it is and
 * names the missing item and the layer when the FFI grows something the RN layers lack: run on
 * a scratch copy of ../bindings/src with one field, one variant, one method and one callback
 * added.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const rn = path.resolve(__dirname, '..');
const guard = path.join(rn, 'scripts', 'ffi-guard.js');

function run(bindings?: string) {
  const args = [guard, '--rn', rn, ...(bindings ? ['--bindings', bindings] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the guard passes on the repository', () => {
  const r = run();
  expect(r.out).toContain('ffi-guard: ok');
  expect(r.status).toBe(0);
});

test('the guard names each item the FFI has and a layer lacks', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ffi-guard-'));
  try {
    fs.cpSync(path.resolve(rn, '..', 'bindings', 'src'), path.join(tmp, 'src'), { recursive: true });
    const types = path.join(tmp, 'src', 'types.rs');
    let t = fs.readFileSync(types, 'utf8');
    t = t.replace('pub struct EngineConfig {', 'pub struct EngineConfig {\n    /// New.\n    pub cache_dir: Option<String>,');
    t = t.replace('pub enum PeerState {', 'pub enum PeerState {\n    /// New.\n    Suspended,');
    fs.writeFileSync(types, t);
    const engine = path.join(tmp, 'src', 'engine.rs');
    fs.writeFileSync(
      engine,
      fs.readFileSync(engine, 'utf8').replace('    pub fn peers(&self)', '    pub fn hibernate(&self) {}\n\n    pub fn peers(&self)'),
    );
    const listener = path.join(tmp, 'src', 'listener.rs');
    fs.writeFileSync(
      listener,
      fs
        .readFileSync(listener, 'utf8')
        .replace('    fn on_error(&self, error: PeerChatError);', '    fn on_error(&self, error: PeerChatError);\n    fn on_typing(&self, peer_id: String);'),
    );
    const r = run(path.join(tmp));
    expect(r.status).toBe(1);
    expect(r.out).toContain('EngineConfig.cache_dir (cacheDir) is missing from src/NativePeerChat.ts (type NativeEngineConfig)');
    expect(r.out).toContain('EngineConfig.cache_dir (cacheDir) is missing from src/types.ts (interface PeerChatConfig)');
    expect(r.out).toContain('EngineConfig.cache_dir (cacheDir) is missing from android/src/main/java/com/peerchat/EngineAdapter.kt');
    expect(r.out).toContain('EngineConfig.cache_dir (cacheDir) is missing from ios/PeerChat.mm');
    expect(r.out).toContain("PeerState.Suspended ('suspended') is missing from src/types.ts (type PeerState)");
    expect(r.out).toContain('PeerState.Suspended (.suspended) is missing from ios/EngineAdapter.swift');
    expect(r.out).toContain('Engine.hibernate (hibernate) is missing from src/NativePeerChat.ts (Spec method)');
    expect(r.out).toContain('Engine.hibernate (engine.hibernate()) is missing from android/src/main/java/com/peerchat/EngineAdapter.kt');
    expect(r.out).toContain('EngineListener.on_typing (onTyping) is missing from src/NativePeerChat.ts (EventEmitter)');
    expect(r.out).toContain('EngineListener.on_typing (emitOnTyping) is missing from ios/PeerChat.mm');
    // Kotlin maps plain enums generically (`name.lowercase()`): a new PeerState case needs no Kotlin change.
    expect(r.out).not.toContain('PeerState.Suspended (PeerState.SUSPENDED)');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
