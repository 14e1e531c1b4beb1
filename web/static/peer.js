// One remote peer: an RTCPeerConnection with its `peerchat` data channel, SDP offer/answer,
// trickle ICE, and the chat frames that travel on the channel. Knows nothing of rooms.

import {
  DATA_CHANNEL_LABEL,
  decodeFrame,
  encodeAck,
  encodeHello,
  encodeMessage,
  encodePeerId,
} from './chat-frames.js';

/** No STUN or TURN server: host candidates only (peerchat never adds a public server). */
export const RTC_CONFIGURATION = { iceServers: [] };

/** The signaling `IceCandidate` (snake_case `RTCIceCandidateInit`) for a browser candidate. */
export function toWireCandidate(c) {
  const wire = { candidate: c.candidate };
  if (c.sdpMid != null) wire.sdp_mid = c.sdpMid;
  if (c.sdpMLineIndex != null) wire.sdp_m_line_index = c.sdpMLineIndex;
  if (c.usernameFragment != null) wire.username_fragment = c.usernameFragment;
  return wire;
}

/** The browser's `RTCIceCandidateInit` for a signaling `IceCandidate`. */
export function fromWireCandidate(w) {
  return {
    candidate: w.candidate,
    sdpMid: w.sdp_mid ?? null,
    sdpMLineIndex: w.sdp_m_line_index ?? null,
    usernameFragment: w.username_fragment ?? null,
  };
}

/**
 * The DTLS certificate fingerprint (`a=fingerprint`, RFC 8122) of an SDP, or null. A peer
 * connection keeps its certificate for its whole life, so an offer with another fingerprint
 * comes from a new RTCPeerConnection (say, the far side reloaded its page), not from a
 * renegotiation or an ICE restart of the current one.
 * @param {string} sdp
 */
export function sdpFingerprint(sdp) {
  const m = /^a=fingerprint:(.+)$/m.exec(sdp ?? '');
  return m ? m[1].trim().toLowerCase() : null;
}

/**
 * Events (`CustomEvent`s):
 * - `state`: `detail` is `'connecting' | 'connected' | 'disconnected' | 'failed'`.
 * - `hello`: `detail` `{name}` — the far side's display name from its `hello` frame.
 * - `message`: `detail` `{id, seq, sentAtMs, text}` — every message frame (duplicates included;
 *   the caller dedups by id). Each one has already been acknowledged.
 * - `ack`: `detail` `{id}`.
 * - `peer-id`: `detail` `{peerId}` — the far side's signaling session was replaced; the server
 *   knows it by `peerId` now.
 * - `error`: `detail` is an Error from negotiation (the link keeps going when it can).
 */
export class PeerLink extends EventTarget {
  /**
   * @param {object} o
   * @param {string} o.localName our display name, sent in `hello`.
   * @param {'offerer' | 'answerer'} o.role the offerer creates the data channel and the offer.
   * @param {(msg: object) => void} o.signal sends an `offer`/`answer`/`ice_candidate` without
   *   its target; the caller adds `to` or `to_login`.
   * @param {RTCConfiguration} [o.rtcConfiguration] ICE servers and policy (W3C
   *   `RTCConfiguration`); default RTC_CONFIGURATION (no STUN/TURN server).
   */
  constructor({ localName, role, signal, rtcConfiguration = RTC_CONFIGURATION }) {
    super();
    this.localName = localName;
    this.role = role;
    this.signal = signal;
    this.state = 'connecting';
    this.pc = new RTCPeerConnection(rtcConfiguration);
    /** @type {RTCDataChannel | null} */
    this.channel = null;
    /** Next `seq` for a message we send on this connection (starts at 1). */
    this.nextSeq = 1;
    /** Candidates that arrived before the remote description. */
    this.pendingCandidates = [];
    /** Serialises negotiation steps so candidates never overtake the description. */
    this.queue = Promise.resolve();
    /** For tests and diagnostics: candidates as sent and as received. */
    this.localCandidates = [];
    this.remoteCandidates = [];

    this.pc.addEventListener('icecandidate', (event) => {
      // A null candidate ends gathering; we do not signal end-of-candidates.
      if (!event.candidate || event.candidate.candidate === '') return;
      this.localCandidates.push(event.candidate.candidate);
      this.signal({ type: 'ice_candidate', candidate: toWireCandidate(event.candidate) });
    });
    this.pc.addEventListener('connectionstatechange', () => {
      const s = this.pc.connectionState;
      if (s === 'failed') this.#setState('failed');
      else if ((s === 'disconnected' || s === 'closed') && this.state === 'connected') this.#setState('disconnected');
    });
    this.pc.addEventListener('datachannel', (event) => {
      if (event.channel.label === DATA_CHANNEL_LABEL && !this.channel) this.#useChannel(event.channel);
    });
  }

  /** Offerer only: creates the data channel and sends the SDP offer. */
  start() {
    this.#useChannel(this.pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true }));
    this.#enqueue(async () => {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.signal({ type: 'offer', sdp: this.pc.localDescription.sdp });
    });
  }

  /** Answerer: applies the far side's SDP offer and sends the SDP answer. */
  handleOffer(sdp) {
    this.#enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      await this.#flushCandidates();
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      this.signal({ type: 'answer', sdp: this.pc.localDescription.sdp });
    });
  }

  /** Offerer: applies the far side's SDP answer. */
  handleAnswer(sdp) {
    this.#enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      await this.#flushCandidates();
    });
  }

  /** Applies one trickled ICE candidate (signaling `IceCandidate` shape). */
  handleCandidate(wire) {
    this.remoteCandidates.push(wire.candidate);
    this.#enqueue(async () => {
      if (!this.pc.remoteDescription) this.pendingCandidates.push(wire);
      else await this.pc.addIceCandidate(fromWireCandidate(wire));
    });
  }

  /** True when chat frames can be sent. */
  get isOpen() {
    return this.channel?.readyState === 'open';
  }

  /**
   * Sends one chat message on this connection; returns its `seq`, or null when the channel
   * is not open (nothing is sent).
   * @param {{id: string, sentAtMs: number, text: string}} m
   */
  sendMessage({ id, sentAtMs, text }) {
    if (!this.isOpen) return null;
    const seq = this.nextSeq++;
    this.channel.send(encodeMessage({ id, seq, sentAtMs, text }));
    return seq;
  }

  /**
   * Tells the far side our new signaling peer id (a `peer_id` frame). Returns false when the
   * channel is not open (nothing is sent).
   */
  sendPeerId(peerId) {
    if (!this.isOpen) return false;
    this.channel.send(encodePeerId(peerId));
    return true;
  }

  /** Fingerprint of the far side's current description (see sdpFingerprint), or null. */
  get remoteFingerprint() {
    return sdpFingerprint(this.pc.remoteDescription?.sdp);
  }

  /** Closes the data channel and the peer connection. Idempotent. */
  close() {
    if (this.state === 'closed') return;
    this.channel?.close();
    this.pc.close();
    this.state = 'closed';
  }

  /** Selected ICE candidate pair (local and remote candidate stats), for diagnostics. */
  async selectedPair() {
    const stats = await this.pc.getStats();
    let pair = null;
    stats.forEach((r) => {
      if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
    });
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return {
      local: local && { address: local.address, port: local.port, type: local.candidateType },
      remote: remote && { address: remote.address, port: remote.port, type: remote.candidateType },
    };
  }

  #useChannel(channel) {
    this.channel = channel;
    channel.addEventListener('open', () => {
      channel.send(encodeHello(this.localName));
      this.#setState('connected');
    });
    channel.addEventListener('close', () => {
      if (this.state === 'connected') this.#setState('disconnected');
    });
    channel.addEventListener('message', (event) => this.#onFrame(event.data));
  }

  #onFrame(data) {
    const frame = decodeFrame(data);
    switch (frame.kind) {
      case 'hello':
        this.dispatchEvent(new CustomEvent('hello', { detail: { name: frame.name } }));
        break;
      case 'message':
        if (this.isOpen) this.channel.send(encodeAck(frame.id));
        this.dispatchEvent(new CustomEvent('message', { detail: frame }));
        break;
      case 'ack':
        this.dispatchEvent(new CustomEvent('ack', { detail: { id: frame.id } }));
        break;
      case 'peer_id':
        this.dispatchEvent(new CustomEvent('peer-id', { detail: { peerId: frame.peerId } }));
        break;
      case 'invalid':
        console.warn(`peerchat: dropping an invalid chat frame (${frame.reason})`);
        break;
      default: // unknown types are ignored
        break;
    }
  }

  async #flushCandidates() {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const wire of pending) await this.pc.addIceCandidate(fromWireCandidate(wire));
  }

  #enqueue(step) {
    this.queue = this.queue.then(step).catch((err) => {
      if (this.state === 'closed') return;
      console.warn('peerchat: negotiation step failed', err);
      this.dispatchEvent(new CustomEvent('error', { detail: err }));
    });
  }

  #setState(state) {
    if (this.state === state || this.state === 'closed') return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}
