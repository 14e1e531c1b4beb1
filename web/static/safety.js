// The safety code (the same as the engine's, core/src/safety.rs): a short code two users
// compare to check that nobody rewrote the SDP between them. SHA-256 over
// "peerchat-safety-code-v1", 0, the smaller fingerprint set, 0, the larger one (byte order),
// each set being the normalized `a=fingerprint` values (RFC 8122: "<hash function lower case>
// <HEX UPPER CASE>") of one SDP, sorted, deduplicated and joined by "\n". The first 20 digest
// bytes give four groups: each 5-byte big-endian number modulo 100,000, zero-padded to five
// digits, joined by spaces.

/** Groups of five digits in a safety code. */
export const SAFETY_CODE_GROUPS = 4;

const DOMAIN = 'peerchat-safety-code-v1';

/** The normalized, sorted, deduplicated `a=fingerprint` values of an SDP. */
export function sdpFingerprints(sdp) {
  const out = new Set();
  for (const raw of String(sdp ?? '').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line.startsWith('a=fingerprint:')) continue;
    const value = line.slice('a=fingerprint:'.length).trim();
    const space = value.indexOf(' ');
    if (space < 0) continue;
    out.add(`${value.slice(0, space).trim().toLowerCase()} ${value.slice(space + 1).trim().toUpperCase()}`);
  }
  // Byte order, as Rust's `sort` on the UTF-8 strings (fingerprints are ASCII).
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The safety code of a connection from its local and remote SDP (either order gives the same
 * code). Resolves to e.g. "33956 73017 21310 38754"; rejects with an Error naming the side
 * whose SDP has no a=fingerprint line.
 */
export async function safetyCode(localSdp, remoteSdp, subtle = globalThis.crypto.subtle) {
  const local = sdpFingerprints(localSdp);
  if (local.length === 0) throw new Error('the local SDP has no a=fingerprint line');
  const remote = sdpFingerprints(remoteSdp);
  if (remote.length === 0) throw new Error('the remote SDP has no a=fingerprint line');
  const a = local.join('\n');
  const b = remote.join('\n');
  const [first, second] = a <= b ? [a, b] : [b, a];
  const enc = new TextEncoder();
  const parts = [enc.encode(DOMAIN), new Uint8Array([0]), enc.encode(first), new Uint8Array([0]), enc.encode(second)];
  const input = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { input.set(p, at); at += p.length; }
  const digest = new Uint8Array(await subtle.digest('SHA-256', input));
  const groups = [];
  for (let g = 0; g < SAFETY_CODE_GROUPS; g++) {
    let n = 0n;
    for (let i = 0; i < 5; i++) n = (n << 8n) | BigInt(digest[g * 5 + i]);
    groups.push(String(n % 100000n).padStart(5, '0'));
  }
  return groups.join(' ');
}
