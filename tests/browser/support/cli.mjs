// A Rust-engine peer: `peerchat create|join` driven over stdin/stdout (line formats in
// cli/src/chat.rs).
import { LOOPBACK, PEERCHAT_BIN, WAIT_MS } from './env.mjs';
import { Proc } from './processes.mjs';

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * ICE options. Loopback namespace: 127.0.0.1 only and no mDNS, like the engine's
 * `EngineConfig::loopback_only()` (the mDNS socket cannot join 224.0.0.251 where no route
 * covers multicast, and building the peer connection then fails with ENODEV). mDNS
 * namespace: the CLI's defaults, every IPv4 interface and mDNS resolution of `.local`
 * candidates on.
 */
function netArgs(wsUrl) {
  return ['--server', wsUrl, ...(LOOPBACK ? ['--ice-addr', '127.0.0.1:0', '--no-mdns'] : [])];
}

export class CliPeer {
  /** Runs `peerchat create`; resolves once it printed the room code (`peer.code`). */
  static async create(name, wsUrl) {
    const peer = new CliPeer(name, ['create', '--name', name, ...netArgs(wsUrl)]);
    const { line } = await peer.proc.waitForLine(/^\* room code: /);
    peer.code = line.slice('* room code: '.length).trim();
    return peer;
  }

  /** Runs `peerchat join CODE`; resolves once it printed `* joined room`. */
  static async join(name, code, wsUrl) {
    const peer = new CliPeer(name, ['join', code, '--name', name, ...netArgs(wsUrl)]);
    await peer.proc.waitForLine(new RegExp(`^\\* joined room ${esc(code)}$`));
    peer.code = code;
    return peer;
  }

  constructor(name, args) {
    this.name = name;
    this.proc = new Proc(`cli ${name}`, PEERCHAT_BIN, args, {
      env: { ...process.env, PEERCHAT_LOG: process.env.PEERCHAT_LOG ?? 'warn,rtc=error,rtc_ice=error,rtc_dtls=error,webrtc=error' },
    });
  }

  /**
   * Waits for `* chat ready with NAME` (data channel open). With `nameOrId`, the line may
   * name the peer by its server id instead: `peerchat join` prints ids for peers that were in
   * the room before it (its name map is seeded from `engine.peers()` right after
   * `join_room`, which is still empty then; `RoomInfo.members` has them).
   */
  waitReady(peerName, { nameOrId = false } = {}) {
    const who = nameOrId ? `(${esc(peerName)}|[0-9a-f]{32})` : esc(peerName);
    return this.proc.waitForLine(new RegExp(`^\\* chat ready with ${who}$`));
  }

  /** Sends one line; resolves with the message id the engine printed (`> [ID] TEXT`). */
  async send(text) {
    const from = this.proc.lines.length;
    this.proc.writeLine(text);
    const { line } = await this.proc.waitForLine(new RegExp(`^> \\[([^\\]]+)\\] ${esc(text)}$`), { from });
    return /^> \[([^\]]+)\]/.exec(line)[1];
  }

  /** Waits for `< FROM: TEXT`. */
  waitMessage(from, text) {
    return this.proc.waitForLine(new RegExp(`^< ${esc(from)}: ${esc(text)}$`));
  }

  /** Waits for `✓ delivered [ID] to NAME`. */
  waitDelivered(id, to) {
    return this.proc.waitForLine(new RegExp(`^✓ delivered \\[${esc(id)}\\] to ${esc(to)}$`));
  }

  /** Waits for `* peer left: NAME (REASON)`. */
  waitPeerLeft(name, reason = 'left') {
    return this.proc.waitForLine(new RegExp(`^\\* peer left: ${esc(name)} \\(${reason}\\)$`));
  }

  /** Received messages `{from, text}` in the order printed. */
  received() {
    return this.proc.lines.filter((l) => l.startsWith('< ')).map((l) => {
      const [from, ...rest] = l.slice(2).split(': ');
      return { from, text: rest.join(': ') };
    });
  }

  /** Error lines printed so far. */
  errors() {
    return this.proc.lines.filter((l) => l.startsWith('! '));
  }

  /** Types `/leave` and waits for the process to exit; resolves with its exit status. */
  async leave() {
    this.proc.writeLine('/leave');
    const timer = setTimeout(() => this.proc.stop(), WAIT_MS);
    const result = await this.proc.exitPromise;
    clearTimeout(timer);
    return result;
  }
}
