// A peerchat client written from docs/protocol.md alone (no peerchat code): the signaling
// protocol over a WebSocket and the data-channel chat protocol over a W3C RTCPeerConnection.
// It runs unchanged in Node (node-datachannel's W3C polyfill + `ws`, i.e. libdatachannel) and
// in Chromium (the browser's own RTCPeerConnection and WebSocket).
//
// The harness (tests/interop/tests/support/stranger.rs) drives it with JSON lines:
//   commands in:  {"cmd":"create"} {"cmd":"join","code":C} {"cmd":"send","text":T}
//                 {"cmd":"bulk","count":N,"bytes":B} (N messages of B bytes, then `bulk_sent`)
//                 {"cmd":"raw","text":T} (one text frame as is) {"cmd":"binary","text":T}
//                 (the UTF-8 bytes of T as one binary message) {"cmd":"leave"}
//   events out:   {"event":"ready","peer_id"} {"event":"room","code"} {"event":"open","peer_id","name"}
//                 {"event":"message","peer_id","name","id","seq","text"} {"event":"sent","id","to"}
//                 {"event":"delivered","peer_id","id"} {"event":"peer_left","peer_id","reason"}
//                 {"event":"left"} {"event":"protocol_error","peer_id","reason"}
//                 {"event":"bulk_sent","to","count"}
//                 {"event":"error","code","message"}

const MAX_MESSAGE_BYTES = 16384;
const MAX_FRAME_BYTES = 65536;

/**
 * Starts one stranger peer.
 * @param {object} o
 * @param {typeof RTCPeerConnection} o.RTCPeerConnection W3C constructor
 * @param {typeof WebSocket} o.WebSocket W3C-style WebSocket constructor
 * @param {string} o.url signaling URL (ws://host:port/ws)
 * @param {string} o.name display name
 * @param {(e: object) => void} o.emit event sink
 * @param {object} [o.rtcConfig] RTCConfiguration
 * @param {boolean} [o.sendHello] send `hello` when a channel opens (default true)
 * @param {string} [o.helloName] name put in `hello` (default `name`)
 * @param {boolean} [o.omitText] `message` events carry `bytes` instead of `text` (benchmarks)
 * @returns {Promise<(cmd: object) => void>} the command handler, once the welcome arrived
 */
export function startStranger({ RTCPeerConnection, WebSocket, url, name, emit, rtcConfig = {},
  sendHello = true, helloName = name, omitText = false }) {
  const ws = new WebSocket(url);
  const peers = new Map(); // peer_id -> { pc, dc, name, early, remoteSet, seq, seen }
  const encoder = new TextEncoder();
  const signal = (msg) => ws.send(JSON.stringify(msg));
  let queue = Promise.resolve();

  function newPeer(peerId, peerName, offerer) {
    peers.get(peerId)?.pc.close();
    const pc = new RTCPeerConnection(rtcConfig);
    const p = { pc, dc: null, name: peerName, early: [], remoteSet: false, seq: 0, seen: new Set() };
    peers.set(peerId, p);
    pc.onicecandidate = ({ candidate: c }) => {
      if (!c || !c.candidate) {
        signal({ type: 'ice_candidate', to: peerId, candidate: { candidate: '' } });
        return;
      }
      const candidate = { candidate: c.candidate.replace(/^a=/, '') };
      if (c.sdpMid != null) candidate.sdp_mid = c.sdpMid;
      if (c.sdpMLineIndex != null) candidate.sdp_m_line_index = c.sdpMLineIndex;
      if (c.usernameFragment != null) candidate.username_fragment = c.usernameFragment;
      signal({ type: 'ice_candidate', to: peerId, candidate });
    };
    if (offerer) {
      attach(peerId, p, pc.createDataChannel('peerchat', { ordered: true }));
    } else {
      pc.ondatachannel = ({ channel }) => {
        if (channel.label === 'peerchat' && !p.dc) attach(peerId, p, channel);
      };
    }
    return p;
  }

  function attach(peerId, p, dc) {
    p.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => {
      if (sendHello) dc.send(JSON.stringify({ type: 'hello', name: helloName, version: 1 }));
      emit({ event: 'open', peer_id: peerId, name: p.name });
    };
    dc.onmessage = ({ data }) => onFrame(peerId, p, data);
  }

  function onFrame(peerId, p, data) {
    const refuse = (reason) => emit({ event: 'protocol_error', peer_id: peerId, reason });
    if (typeof data !== 'string') return refuse('binary message');
    if (encoder.encode(data).length > MAX_FRAME_BYTES) return refuse('frame too large');
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return refuse('not JSON');
    }
    if (f === null || typeof f !== 'object' || typeof f.type !== 'string') return refuse('no type');
    switch (f.type) {
      case 'hello':
        return; // informational: the shown name is the server's
      case 'message': {
        if (typeof f.id !== 'string' || typeof f.text !== 'string' || !Number.isInteger(f.seq)
          || !Number.isInteger(f.sent_at_ms)) return refuse('malformed message');
        const size = encoder.encode(f.text).length;
        if (size === 0 || size > MAX_MESSAGE_BYTES) return refuse(`text of ${size} bytes`);
        p.dc.send(JSON.stringify({ type: 'ack', id: f.id }));
        if (p.seen.has(f.id)) return;
        p.seen.add(f.id);
        const shown = omitText ? { bytes: size } : { text: f.text };
        return emit({ event: 'message', peer_id: peerId, name: p.name, id: f.id, seq: f.seq, ...shown });
      }
      case 'ack':
        if (typeof f.id !== 'string') return refuse('malformed ack');
        return emit({ event: 'delivered', peer_id: peerId, id: f.id });
      default:
        return; // unknown type: ignored
    }
  }

  async function addCandidate(p, c) {
    if (!c.candidate) return; // end of candidates
    // docs/protocol.md: sdp_mid names the sender's first m-section (its a=mid:).
    const mid = /^a=mid:(.*)$/m.exec(p.pc.remoteDescription?.sdp ?? '')?.[1]?.trim();
    if (c.sdp_mid !== undefined && c.sdp_mid !== mid) {
      emit({ event: 'candidate_refused', candidate: c, reason: `sdp_mid "${c.sdp_mid}" is not the a=mid "${mid}"` });
    }
    const init = { candidate: c.candidate, sdpMid: c.sdp_mid, sdpMLineIndex: c.sdp_m_line_index,
      usernameFragment: c.username_fragment };
    if (init.sdpMid == null && init.sdpMLineIndex == null) init.sdpMLineIndex = 0;
    try {
      await p.pc.addIceCandidate(init);
    } catch (err) {
      emit({ event: 'candidate_refused', candidate: c, reason: String(err) });
    }
  }

  async function remoteDescription(p, desc) {
    await p.pc.setRemoteDescription(desc);
    p.remoteSet = true;
    for (const c of p.early.splice(0)) await addCandidate(p, c);
  }

  async function onSignal(m) {
    switch (m.type) {
      case 'welcome':
        return emit({ event: 'ready', peer_id: m.peer_id });
      case 'room_created':
        return emit({ event: 'room', code: m.code });
      case 'room_joined':
        emit({ event: 'room', code: m.code });
        for (const member of m.members) {
          const p = newPeer(member.peer_id, member.name, true);
          await p.pc.setLocalDescription(await p.pc.createOffer());
          signal({ type: 'offer', to: member.peer_id, sdp: p.pc.localDescription.sdp });
        }
        return;
      case 'offer': {
        const p = newPeer(m.from, m.from_name, false);
        await remoteDescription(p, { type: 'offer', sdp: m.sdp });
        await p.pc.setLocalDescription(await p.pc.createAnswer());
        return signal({ type: 'answer', to: m.from, sdp: p.pc.localDescription.sdp });
      }
      case 'answer': {
        const p = peers.get(m.from);
        if (p) await remoteDescription(p, { type: 'answer', sdp: m.sdp });
        return;
      }
      case 'ice_candidate': {
        const p = peers.get(m.from);
        if (!p) return;
        if (p.remoteSet) await addCandidate(p, m.candidate);
        else p.early.push(m.candidate);
        return;
      }
      case 'peer_left':
        peers.get(m.peer_id)?.pc.close();
        peers.delete(m.peer_id);
        return emit({ event: 'peer_left', peer_id: m.peer_id, reason: m.reason });
      case 'room_left':
        return emit({ event: 'left' });
      case 'error':
        return emit({ event: 'error', code: m.code, message: m.message });
      default:
        return; // peer_joined (the newcomer offers), pong, …
    }
  }

  /** Sends one `message` frame with `text` to `p`; returns its id. */
  function sendMessage(p, text) {
    const id = crypto.randomUUID();
    p.seq += 1;
    p.dc.send(JSON.stringify({ type: 'message', id, seq: p.seq, sent_at_ms: Date.now(), text }));
    return id;
  }

  function command(cmd) {
    const open = [...peers.entries()].filter(([, p]) => p.dc && p.dc.readyState === 'open');
    switch (cmd.cmd) {
      case 'create':
        return signal({ type: 'create_room', name });
      case 'join':
        return signal({ type: 'join_room', code: cmd.code, name });
      case 'send':
        for (const [peerId, p] of open) emit({ event: 'sent', id: sendMessage(p, cmd.text), to: peerId });
        return;
      case 'bulk': {
        // `count` messages of `bytes` ASCII bytes to every open peer, then one `bulk_sent`
        // per peer (the throughput run of `peerchat bench --compare`).
        const text = 'x'.repeat(cmd.bytes);
        for (const [peerId, p] of open) {
          for (let i = 0; i < cmd.count; i++) sendMessage(p, text);
          emit({ event: 'bulk_sent', to: peerId, count: cmd.count });
        }
        return;
      }
      case 'raw':
        for (const [, p] of open) p.dc.send(cmd.text);
        return;
      case 'binary':
        for (const [, p] of open) p.dc.send(encoder.encode(cmd.text));
        return;
      case 'leave':
        signal({ type: 'leave_room' });
        for (const p of peers.values()) p.pc.close();
        peers.clear();
        return;
      default:
        return emit({ event: 'error', code: 'bad_command', message: JSON.stringify(cmd) });
    }
  }

  return new Promise((resolve, reject) => {
    ws.onerror = (e) => reject(new Error(`signaling: ${e.message ?? 'error'}`));
    ws.onclose = () => emit({ event: 'signaling_closed' });
    ws.onmessage = ({ data }) => {
      const m = JSON.parse(String(data));
      // One message at a time, in arrival order (awaits inside must not reorder them).
      queue = queue.then(() => onSignal(m)).catch((err) =>
        emit({ event: 'error', code: 'stranger', message: `${m.type}: ${err?.stack ?? err}` }));
    };
    ws.onopen = () => resolve(command);
  });
}
