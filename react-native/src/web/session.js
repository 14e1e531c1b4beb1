// A chat session: at most one chat at a time, either a room (a full mesh of peer links, the
// newcomer offers to each member) or a chat by login (the peer that addresses the other first
// with `to_login` offers). Owns the peer links; knows nothing of the DOM.

import { newMessageId, validateMessageText } from './chat-frames.js';
import { PeerLink, sdpFingerprint } from './peer.js';
import { describeServerError, normalizeRoomCode, validateName } from './protocol.js';
import { ServerError } from './signaling.js';

/** Candidates kept per unknown sender until its link exists (a bound, not a protocol limit). */
const MAX_ORPHAN_CANDIDATES = 64;

/** Requests answered through `SignalingClient.request`; their errors are handled there. */
const REQUEST_TYPES = new Set(['create_room', 'join_room', 'leave_room', 'login', 'logout']);

/**
 * After re-entering the room on a new session (`rejoin_room`), how long (ms) to wait for the
 * room's members to announce their new peer ids on their open data channels (the `peer_id`
 * chat frame) before an unknown member is taken for a new peer and sent an SDP offer; the
 * engine's `REJOIN_IDENTIFY_MS`.
 */
export const REJOIN_IDENTIFY_MS = 2_000;

/**
 * Options: `rtcConfiguration` (W3C `RTCConfiguration`: ICE servers, `iceTransportPolicy`) for
 * every peer connection; default peer.js's RTC_CONFIGURATION.
 *
 * Events (`CustomEvent`s; `detail` shown):
 * - `chat`: `{chat}` — the chat entered (`{kind:'room', code, capacity}` or
 *   `{kind:'login', peerName}`), or `{chat: null}` when it ended.
 * - `peers`: `{peers: [{key, peerId, name, state, interrupted}]}` — every change of the peer
 *   list or a peer's state (`peerId`: the server's id of the peer, null until known).
 * - `notice`: `{text}` — a join/leave/connection line for the chat log.
 *   Peers whose signaling connection dropped show `interrupted: true` in `peers` until they
 *   resume (or leave with reason `timeout`); their data channel may keep working meanwhile.
 * - `message`: `{id, mine, name, sentAtMs, text, peerId, seq}` — a message to show (each id
 *   once); `peerId` and `seq` (its place in the sender's stream) only on received ones.
 * - `status`: `{id, status, delivered, total}` — delivery of one of our messages:
 *   `'sent' | 'delivered' | 'partial' | 'failed'`.
 * - `delivery`: `{id, peerId, status}` — the same per receiving peer: `'sent'` when handed to
 *   its data channel, then `'delivered'` (its ack) or `'failed'` (it went away first).
 * - `login`: `{login}` — our login, or null after logging out or losing the server.
 * - `problem`: `{text, error}` — a sentence to show the user (server refusals, failures);
 *   `error` is the `ServerError` or `Error` behind it, when there is one.
 * - `ended`: `{}` — a chat by login was closed by the other side; sending is no longer possible.
 */
export class ChatSession extends EventTarget {
  /** @param {import('./signaling.js').SignalingClient} signaling */
  constructor(signaling, { rtcConfiguration } = {}) {
    super();
    this.signaling = signaling;
    this.rtcConfiguration = rtcConfiguration;
    this.displayName = '';
    /** Our login, or null. */
    this.login = null;
    /** The current chat, or null. */
    this.chat = null;
    /**
     * Peer entries by local key: `{key, peerId, name, link, target, stale, interrupted}`.
     * `peerId` is the id the server knows the peer by now (it changes when the peer announces
     * a new one); `stale`: our own session was replaced and the peer has not confirmed its id
     * since.
     */
    this.entries = new Map();
    this.seenIds = new Set();
    /** Our messages awaiting acks: id → {pending: Set<key>, delivered: Set<key>}. */
    this.outgoing = new Map();
    /** ICE candidates from senders we have no link for yet: peerId → candidates. */
    this.orphanCandidates = new Map();
    this.nextKey = 1;
    /** A `rejoin_room` is in flight. */
    this.rejoining = false;
    /** Members of a rejoined room not identified yet, and the timer that offers to them. */
    this.deferred = [];
    this.deferredTimer = null;
    /** Peers that joined while stale peers were unconfirmed: peerId → {peerId, name}. */
    this.unidentified = new Map();
    /** Our signaling connection is down (notice shown once per outage). */
    this.offline = false;
    signaling.addEventListener('message', (e) => this.#onServerMessage(e.detail));
    signaling.addEventListener('session', (e) => this.#onSession(e.detail));
    signaling.addEventListener('state', (e) => {
      if (e.detail === 'reconnecting') this.#onSignalingLost();
      else if (e.detail === 'closed') this.#onSignalingClosed();
    });
  }

  /** Creates a room as `name`. Resolves true on success; failures become `problem` events. */
  async createRoom(name) {
    if (!this.#takeName(name) || !this.#canStartChat()) return false;
    try {
      const reply = await this.signaling.request({ type: 'create_room', name: this.displayName }, ['room_created']);
      this.#enterChat({ kind: 'room', code: reply.code, capacity: reply.capacity });
      this.#notice(`You created room ${reply.code}. Share the code so others can join.`);
      return true;
    } catch (err) {
      this.#problem(err);
      return false;
    }
  }

  /** Joins the room `code` as `name` and offers to every member. */
  async joinRoom(codeInput, name) {
    if (!this.#takeName(name) || !this.#canStartChat()) return false;
    const parsed = normalizeRoomCode(codeInput);
    if (!parsed.ok) {
      this.#say(parsed.error);
      return false;
    }
    try {
      const reply = await this.signaling.request(
        { type: 'join_room', code: parsed.code, name: this.displayName },
        ['room_joined'],
      );
      this.#enterChat({ kind: 'room', code: reply.code, capacity: reply.capacity });
      this.#notice(`You joined room ${reply.code}.`);
      for (const member of reply.members) {
        const entry = this.#addEntry({ peerId: member.peer_id, name: member.name, target: { to: member.peer_id }, role: 'offerer' });
        entry.link.start();
      }
      return true;
    } catch (err) {
      this.#problem(err, { code: parsed.code });
      return false;
    }
  }

  /** Claims the unique login `login`. */
  async logIn(loginInput) {
    const parsed = validateName(loginInput);
    if (!parsed.ok) {
      this.#say(parsed.error);
      return false;
    }
    try {
      const reply = await this.signaling.request({ type: 'login', login: parsed.name }, ['logged_in']);
      this.login = reply.login;
      if (!this.displayName) this.displayName = reply.login;
      this.#emit('login', { login: this.login });
      return true;
    } catch (err) {
      this.#problem(err, { login: parsed.name });
      return false;
    }
  }

  /** Releases the login (ends a chat by login first). */
  async logOut() {
    if (this.chat?.kind === 'login') await this.leave();
    try {
      await this.signaling.request({ type: 'logout' }, ['logged_out']);
    } catch (err) {
      this.#problem(err);
    }
    this.login = null;
    this.#emit('login', { login: null });
  }

  /** Starts a chat with the logged-in user `targetInput`: we send the SDP offer. */
  connectTo(targetInput) {
    if (!this.login) {
      this.#say('Log in first to chat by name.');
      return false;
    }
    const parsed = validateName(targetInput);
    if (!parsed.ok) {
      this.#say(parsed.error);
      return false;
    }
    if (parsed.name.toLowerCase() === this.login.toLowerCase()) {
      this.#say('That is you. Type the name of someone else who is logged in.');
      return false;
    }
    if (!this.#canStartChat()) return false;
    this.#enterChat({ kind: 'login', peerName: parsed.name });
    this.#notice(`Connecting to ${parsed.name}…`);
    const entry = this.#addEntry({ peerId: null, name: parsed.name, target: { to_login: parsed.name }, role: 'offerer' });
    entry.link.start();
    return true;
  }

  /** Leaves the current chat: `leave_room` for a room, `bye` for a chat by login. */
  async leave() {
    const chat = this.chat;
    if (!chat) return;
    if (chat.kind === 'room') {
      try {
        await this.signaling.request({ type: 'leave_room' }, ['room_left']);
      } catch (err) {
        if (!(err instanceof ServerError && err.error.code === 'not_in_room')) this.#problem(err);
      }
    } else if (!chat.ended) {
      for (const entry of this.entries.values()) this.signaling.send({ type: 'bye', ...entry.target });
    }
    this.#endChat();
  }

  /**
   * Sends `text` to every connected peer. Returns `{ok: true, id}` or `{ok: false, error}`
   * (too large, empty, nobody connected) — nothing is sent on error.
   */
  send(text) {
    const check = validateMessageText(text);
    if (!check.ok) return check;
    const open = [...this.entries.values()].filter((e) => e.link.isOpen);
    if (open.length === 0) {
      return { ok: false, error: this.chat?.ended ? 'The chat has ended; nobody can receive this.' : 'Nobody is connected yet, so the message was not sent.' };
    }
    const id = newMessageId();
    const sentAtMs = Date.now();
    const pending = new Set();
    for (const entry of open) {
      if (entry.link.sendMessage({ id, sentAtMs, text }) !== null) pending.add(entry.key);
    }
    this.seenIds.add(id);
    this.outgoing.set(id, { pending, delivered: new Set(), total: pending.size });
    this.#emit('message', { id, mine: true, name: this.displayName, sentAtMs, text });
    this.#emit('status', { id, status: 'sent', delivered: 0, total: pending.size });
    for (const key of pending) this.#emitDelivery(id, key, 'sent');
    return { ok: true, id };
  }

  /** Peers as shown in the UI. */
  peers() {
    return [...this.entries.values()].map((e) => ({ key: e.key, peerId: e.peerId, name: e.name, state: e.link.state, interrupted: e.interrupted }));
  }

  /** For tests and diagnostics: candidates and selected pair of every link. */
  async diagnostics() {
    const out = [];
    for (const e of this.entries.values()) {
      out.push({
        name: e.name,
        peerId: e.peerId,
        state: e.link.state,
        localCandidates: [...e.link.localCandidates],
        remoteCandidates: [...e.link.remoteCandidates],
        selectedPair: await e.link.selectedPair(),
      });
    }
    return out;
  }

  #onServerMessage(msg) {
    switch (msg.type) {
      case 'peer_joined':
        if (this.chat?.kind === 'room' && msg.code === this.chat.code) {
          // One of our peers on a new session whose `peer_id` frame came first: not new.
          if (this.#entryByPeerId(msg.peer.peer_id)) break;
          if (this.#hasStale()) {
            // Perhaps one of our peers on a new session: wait for its data channel's
            // announcement, or for its offer.
            this.unidentified.set(msg.peer.peer_id, { peerId: msg.peer.peer_id, name: msg.peer.name });
            break;
          }
          this.#addEntry({ peerId: msg.peer.peer_id, name: msg.peer.name, target: { to: msg.peer.peer_id }, role: 'answerer' });
          this.#notice(`${msg.peer.name} joined.`);
        }
        break;
      case 'room_joined':
        if (this.rejoining) this.#onRejoined(msg);
        break;
      case 'peer_left': {
        this.unidentified.delete(msg.peer_id);
        this.deferred = this.deferred.filter((m) => m.peer_id !== msg.peer_id);
        const entry = this.#entryByPeerId(msg.peer_id);
        if (!entry) break;
        this.#notice({
          left: `${entry.name} left.`,
          timeout: `${entry.name} did not come back and has left.`,
        }[msg.reason] ?? `${entry.name} disconnected.`);
        this.#removeEntry(entry);
        if (this.chat?.kind === 'login') this.#chatEnded();
        break;
      }
      case 'peer_interrupted': {
        const entry = this.#entryByPeerId(msg.peer_id);
        if (!entry || entry.interrupted) break;
        entry.interrupted = true;
        this.#notice(entry.link.isOpen
          ? `${entry.name} lost the connection to the server; your chat goes on meanwhile.`
          : `${entry.name} lost the connection to the server.`);
        this.#emitPeers();
        break;
      }
      case 'peer_resumed': {
        const entry = this.#entryByPeerId(msg.peer_id);
        if (!entry || !entry.interrupted) break;
        entry.interrupted = false;
        this.#notice(`${entry.name} is back.`);
        this.#emitPeers();
        break;
      }
      case 'offer':
        this.#onOffer(msg);
        break;
      case 'answer': {
        let entry = this.#entryByPeerId(msg.from);
        if (!entry) {
          entry = [...this.entries.values()].find(
            (e) => e.peerId === null && e.target.to_login?.toLowerCase() === msg.from_name.toLowerCase(),
          );
          if (entry) this.#learnPeerId(entry, msg.from);
        }
        entry?.link.handleAnswer(msg.sdp);
        break;
      }
      case 'ice_candidate': {
        const entry = this.#entryByPeerId(msg.from);
        if (entry) entry.link.handleCandidate(msg.candidate);
        else this.#keepOrphan(msg.from, msg.candidate);
        break;
      }
      case 'error':
        if (msg.request === 'rejoin_room' && this.rejoining) {
          // The room cannot be entered again (say, it filled up meanwhile). Open data
          // channels keep working.
          this.rejoining = false;
          this.#say(`Could not re-enter the room: ${describeServerError(msg, { code: this.chat?.code })}`);
        } else if (!REQUEST_TYPES.has(msg.request)) {
          this.#onRelayError(msg);
        }
        break;
      default:
        break;
    }
  }

  #onOffer(msg) {
    const existing = this.#entryByPeerId(msg.from);
    if (existing) {
      const current = existing.link.remoteFingerprint;
      if (current && current !== sdpFingerprint(msg.sdp)) {
        // A new RTCPeerConnection on the far side (it reloaded its page): answer it with a
        // new one too; the entry (and its place in the chat) stays.
        this.#replaceLink(existing, 'answerer');
      }
      existing.link.handleOffer(msg.sdp);
      return;
    }
    if (this.chat?.kind === 'room') {
      const joined = this.unidentified.delete(msg.from);
      const entry = this.#addEntry({ peerId: msg.from, name: msg.from_name, target: { to: msg.from }, role: 'answerer' });
      // It offered: a new peer, not one of ours on a new session.
      if (joined) this.#notice(`${msg.from_name} joined.`);
      entry.link.handleOffer(msg.sdp);
    } else if (!this.chat && this.login) {
      this.#enterChat({ kind: 'login', peerName: msg.from_name });
      this.#notice(`${msg.from_name} started a chat with you.`);
      const entry = this.#addEntry({ peerId: msg.from, name: msg.from_name, target: { to: msg.from }, role: 'answerer' });
      entry.link.handleOffer(msg.sdp);
    } else {
      // Busy with another chat: tell the caller this one is over.
      this.signaling.send({ type: 'bye', to: msg.from });
    }
  }

  #onRelayError(msg) {
    if (this.chat?.kind === 'login' && !this.chat.ended && (msg.code === 'peer_not_found' || msg.code === 'relay_not_allowed')) {
      const entry = [...this.entries.values()][0];
      const connected = entry?.link.state === 'connected';
      if (!connected) {
        this.#say(describeServerError(msg, { target: this.chat.peerName }));
        this.#endChat();
        return;
      }
    }
    if (msg.request === 'ice_candidate') return; // a late candidate after the peer left
    this.#say(describeServerError(msg));
  }

  #addEntry({ peerId, name, target, role }) {
    const key = `p${this.nextKey++}`;
    const entry = { key, peerId, name, target, link: null, stale: false, interrupted: false };
    this.#attachLink(entry, role);
    this.entries.set(key, entry);
    if (peerId) this.#learnPeerId(entry, peerId);
    this.#emitPeers();
    return entry;
  }

  /** Closes the entry's link and gives it a new one (same key, name and messages). */
  #replaceLink(entry, role) {
    const old = entry.link;
    this.#failPending(entry.key);
    this.#attachLink(entry, role);
    old.close();
    this.#emitPeers();
  }

  #attachLink(entry, role) {
    const { key } = entry;
    const link = new PeerLink({
      localName: this.displayName || this.login,
      role,
      ...(this.rtcConfiguration ? { rtcConfiguration: this.rtcConfiguration } : {}),
      // Relays wait in the signaling backlog while the server is unreachable.
      signal: (m) => this.signaling.send({ ...m, ...entry.target }, { queue: true }),
    });
    entry.link = link;
    const current = () => this.entries.get(key) === entry && entry.link === link;
    link.addEventListener('state', (e) => {
      if (!current()) return;
      if (e.detail === 'connected') this.#notice(`Connected to ${entry.name}.`);
      else if (e.detail === 'failed') this.#notice(`Could not connect to ${entry.name}.`);
      else if (e.detail === 'disconnected') this.#notice(`The connection to ${entry.name} was lost.`);
      if (e.detail !== 'connected') this.#failPending(key);
      this.#emitPeers();
    });
    // `hello.name` is never shown: the name is the one the signaling server announced
    // (docs/protocol.md, "Which name is shown"), so a peer cannot pose as another.
    link.addEventListener('peer-id', (e) => {
      if (current()) this.#onPeerIdAnnounced(entry, e.detail.peerId);
    });
    link.addEventListener('message', (e) => {
      const m = e.detail;
      if (this.seenIds.has(m.id)) return;
      this.seenIds.add(m.id);
      this.#emit('message', { id: m.id, mine: false, name: entry.name, sentAtMs: m.sentAtMs, text: m.text, peerId: entry.peerId, seq: m.seq });
    });
    link.addEventListener('ack', (e) => this.#onAck(key, e.detail.id));
    link.addEventListener('error', (e) => console.warn(`peerchat: ${entry.name}:`, e.detail));
  }

  // --- sessions (protocol version 2) ---------------------------------------------------------

  /** A session is ready on a new connection (see SignalingClient's `session` event). */
  #onSession(detail) {
    const wasOffline = this.offline;
    this.offline = false;
    if (detail.kind === 'resumed') {
      this.#onResumed(detail);
    } else if (detail.lostPrevious) {
      this.#onSessionReplaced(detail.peerId);
    } else if (wasOffline && this.chat && !this.chat.ended) {
      this.#notice('Back online.');
    }
  }

  /** The same session on a new connection: bring the room up to date with the server's view. */
  #onResumed({ room, login }) {
    if (login && login !== this.login) {
      this.login = login;
      this.#emit('login', { login });
    }
    if (!this.chat && room) {
      // This page was reloaded: the session still sits in its room, but the peer
      // connections died with the old page. Enter the room again and offer to everyone.
      this.#enterChat({ kind: 'room', code: room.code, capacity: room.capacity });
      this.#notice(`You are back in room ${room.code}.`);
      for (const member of room.members) {
        const entry = this.#addEntry({ peerId: member.peer_id, name: member.name, target: { to: member.peer_id }, role: 'offerer' });
        entry.link.start();
      }
      return;
    }
    if (this.chat?.kind !== 'room') {
      if (this.chat) this.#notice('Back online.');
      return;
    }
    if (!room) {
      // The server no longer seats us: enter the room again.
      this.#rejoin();
      return;
    }
    const present = new Set(room.members.map((m) => m.peer_id));
    for (const entry of [...this.entries.values()]) {
      if (!present.has(entry.peerId)) {
        this.#notice(`${entry.name} left while you were offline.`);
        this.#removeEntry(entry);
      }
    }
    for (const member of room.members) {
      if (!this.#entryByPeerId(member.peer_id)) {
        // Joined meanwhile; its SDP offer comes with the relays the server kept for us.
        this.#addEntry({ peerId: member.peer_id, name: member.name, target: { to: member.peer_id }, role: 'answerer' });
        this.#notice(`${member.name} joined.`);
      }
    }
    this.#notice('Back online.');
  }

  /**
   * A new session replaced one the server forgot (it restarted, or the grace period ran
   * out): announce the new peer id on every open data channel, then re-enter the room by its
   * code (`rejoin_room`), or log in again under the same login.
   */
  #onSessionReplaced(peerId) {
    for (const entry of this.entries.values()) {
      entry.stale = true;
      entry.interrupted = false;
      entry.link.sendPeerId(peerId);
    }
    if (this.chat?.kind === 'room') {
      this.#rejoin();
    } else if (this.chat) {
      this.#notice('Back online.');
    }
    if (this.login) {
      const login = this.login;
      this.signaling.request({ type: 'login', login }, ['logged_in']).catch((err) => {
        this.login = null;
        this.#emit('login', { login: null });
        this.#problem(err, { login });
      });
    }
  }

  #rejoin() {
    this.rejoining = true;
    const code = this.chat.code;
    if (!this.signaling.send({ type: 'rejoin_room', code, name: this.displayName })) this.rejoining = false;
  }

  /**
   * The answer to `rejoin_room`: members whose data channel announced their new id are the
   * peers we already have; the others wait REJOIN_IDENTIFY_MS for their announcement while
   * some of our peers are unconfirmed, then are taken for new peers and sent offers (we
   * entered last).
   */
  #onRejoined(msg) {
    this.rejoining = false;
    const unknown = [];
    for (const member of msg.members) {
      const entry = this.#entryByPeerId(member.peer_id);
      if (entry) entry.stale = false;
      else unknown.push(member);
    }
    this.#notice(`Back online in room ${msg.code}.`);
    clearTimeout(this.deferredTimer);
    if (this.#hasStale() && unknown.length > 0) {
      this.deferred = unknown;
      this.deferredTimer = setTimeout(() => {
        const members = this.deferred;
        this.deferred = [];
        this.#offerToNewMembers(members);
      }, REJOIN_IDENTIFY_MS);
    } else {
      this.#offerToNewMembers(unknown);
    }
  }

  #offerToNewMembers(members) {
    if (this.chat?.kind !== 'room') return;
    for (const member of members) {
      if (this.#entryByPeerId(member.peer_id)) continue;
      const entry = this.#addEntry({ peerId: member.peer_id, name: member.name, target: { to: member.peer_id }, role: 'offerer' });
      this.#notice(`${member.name} joined.`);
      entry.link.start();
    }
  }

  /** A peer announced on its data channel that the server knows it as `newId` now. */
  #onPeerIdAnnounced(entry, newId) {
    // An entry made for `newId` before the announcement (from `peer_joined` or an early
    // offer) is this same peer: drop the duplicate.
    const dup = this.#entryByPeerId(newId);
    if (dup && dup !== entry) this.#removeEntry(dup);
    this.unidentified.delete(newId);
    this.deferred = this.deferred.filter((m) => m.peer_id !== newId);
    entry.stale = false;
    entry.interrupted = false;
    entry.target = { to: newId };
    this.#learnPeerId(entry, newId);
    this.#emitPeers();
  }

  #hasStale() {
    for (const e of this.entries.values()) if (e.stale) return true;
    return false;
  }

  #learnPeerId(entry, peerId) {
    entry.peerId = peerId;
    const orphans = this.orphanCandidates.get(peerId);
    this.orphanCandidates.delete(peerId);
    for (const c of orphans ?? []) entry.link.handleCandidate(c);
  }

  #keepOrphan(from, candidate) {
    if (!this.chat) return;
    const list = this.orphanCandidates.get(from) ?? [];
    if (list.length < MAX_ORPHAN_CANDIDATES) list.push(candidate);
    this.orphanCandidates.set(from, list);
  }

  #onAck(key, id) {
    const out = this.outgoing.get(id);
    if (!out || !out.pending.delete(key)) return;
    out.delivered.add(key);
    this.#emitDelivery(id, key, 'delivered');
    this.#emitStatus(id, out);
  }

  #failPending(key) {
    for (const [id, out] of this.outgoing) {
      if (out.pending.delete(key)) {
        this.#emitDelivery(id, key, 'failed');
        this.#emitStatus(id, out);
      }
    }
  }

  #emitDelivery(id, key, status) {
    this.#emit('delivery', { id, peerId: this.entries.get(key)?.peerId ?? null, status });
  }

  #emitStatus(id, out) {
    let status = 'sent';
    if (out.pending.size === 0) {
      if (out.delivered.size === out.total) status = 'delivered';
      else status = out.delivered.size > 0 ? 'partial' : 'failed';
    }
    this.#emit('status', { id, status, delivered: out.delivered.size, total: out.total });
    if (out.pending.size === 0) this.outgoing.delete(id);
  }

  #removeEntry(entry) {
    this.#failPending(entry.key);
    this.entries.delete(entry.key);
    entry.link.close();
    this.#emitPeers();
  }

  #entryByPeerId(peerId) {
    for (const e of this.entries.values()) if (e.peerId === peerId) return e;
    return null;
  }

  #enterChat(chat) {
    this.chat = chat;
    this.rejoining = false;
    this.seenIds.clear();
    this.outgoing.clear();
    this.orphanCandidates.clear();
    this.#emit('chat', { chat });
  }

  #chatEnded() {
    if (!this.chat) return;
    this.chat.ended = true;
    this.#emit('ended', {});
  }

  #endChat() {
    for (const entry of [...this.entries.values()]) this.#removeEntry(entry);
    this.chat = null;
    this.rejoining = false;
    clearTimeout(this.deferredTimer);
    this.deferred = [];
    this.unidentified.clear();
    this.orphanCandidates.clear();
    this.#emit('chat', { chat: null });
  }

  /** Our signaling connection dropped; the client dials again by itself. */
  #onSignalingLost() {
    if (this.offline) return;
    this.offline = true;
    if (this.chat && !this.chat.ended) {
      this.#notice('Lost the connection to the server; reconnecting… Chats already connected go on meanwhile.');
    }
  }

  /** The session ended for good (closed, or taken over by another tab). */
  #onSignalingClosed() {
    if (this.login) {
      this.login = null;
      this.#emit('login', { login: null });
    }
    if (this.chat && !this.chat.ended) {
      this.#notice(this.signaling.closedReason === 'replaced'
        ? 'This session is now open in another tab or window; chats already connected continue here, but new peers cannot join.'
        : 'Disconnected from the server; chats already connected continue, new peers cannot join.');
    }
  }

  #canStartChat() {
    if (this.chat) {
      this.#say('Leave the current chat first.');
      return false;
    }
    if (this.signaling.state !== 'open') {
      this.#say('Not connected to the server yet. Please wait a moment and try again.');
      return false;
    }
    return true;
  }

  #takeName(input) {
    const parsed = validateName(input);
    if (!parsed.ok) {
      this.#say(parsed.error);
      return false;
    }
    this.displayName = parsed.name;
    return true;
  }

  #problem(err, context) {
    this.#say(err instanceof ServerError ? describeServerError(err.error, context) : err.message, err);
  }

  #say(text, error = null) {
    this.#emit('problem', { text, error });
  }

  #notice(text) {
    this.#emit('notice', { text });
  }

  #emitPeers() {
    this.#emit('peers', { peers: this.peers() });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
