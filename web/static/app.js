// UI: the Home and Chat views, wired to a ChatSession. The only module that touches the DOM.

import { ChatSession } from './session.js';
import { SignalingClient, signalingUrl } from './signaling.js';

const NAME_KEY = 'peerchat.name';

const $ = (id) => document.getElementById(id);
const el = {
  serverState: document.querySelector('[data-testid="server-state"]'),
  banner: document.querySelector('[data-testid="error"]'),
  home: $('home'), chat: $('chat'),
  name: $('name'), create: $('create'), joinForm: $('join-form'), code: $('code'),
  loggedOut: $('logged-out'), loggedIn: $('logged-in'), login: $('login'), loginName: $('login-name'),
  connectForm: $('connect-form'), target: $('target'), logout: $('logout'),
  chatTitle: $('chat-title'), peerList: $('peer-list'), leave: $('leave'),
  roomCodeBox: $('room-code-box'), roomCode: $('room-code'), copy: $('copy'),
  log: $('log'), composer: $('composer'), text: $('text'), send: $('send'),
};

const signaling = new SignalingClient(signalingUrl(window.location));
const session = new ChatSession(signaling);
/** Message list items by message id, to update delivery marks. */
const items = new Map();

// Exposed for tests and for debugging from the console.
window.peerchat = { session, signaling };

el.name.value = localStorage.getItem(NAME_KEY) ?? '';
// A reloaded page resumes its session and re-enters its room under this name.
session.displayName = el.name.value.trim();
el.name.addEventListener('change', () => localStorage.setItem(NAME_KEY, el.name.value.trim()));

// --- server connection ---------------------------------------------------------------------
// The client reconnects by itself (backoff with full jitter, 250 ms .. 5 s) and resumes its
// session; this only shows where it stands.
const LOST_TEXT = 'Lost the connection to the server. Reconnecting…';
signaling.addEventListener('state', (e) => {
  const state = e.detail;
  el.serverState.dataset.state = state;
  if (state === 'reconnecting') {
    el.serverState.dataset.attempt = String(signaling.attempt);
    el.serverState.textContent = 'Reconnecting…';
    el.serverState.title = `Attempt ${signaling.attempt}; next try in ${(signaling.nextRetryMs / 1000).toFixed(1)} s`;
    if (el.banner.hidden) showError(LOST_TEXT);
    return;
  }
  delete el.serverState.dataset.attempt;
  el.serverState.title = '';
  el.serverState.textContent = { connecting: 'Connecting…', open: 'Online', closed: 'Offline' }[state];
  if (state === 'open' && el.banner.textContent === LOST_TEXT) clearError();
  if (state === 'closed' && signaling.closedReason === 'replaced') {
    showError('This session is open in another tab or window. Reload this page to use it here.');
  }
});

// --- home ----------------------------------------------------------------------------------
el.create.addEventListener('click', () => act(() => session.createRoom(el.name.value)));
el.joinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(() => session.joinRoom(el.code.value, el.name.value));
});
el.login.addEventListener('click', () => act(() => session.logIn(el.name.value)));
el.connectForm.addEventListener('submit', (e) => {
  e.preventDefault();
  act(() => session.connectTo(el.target.value));
});
el.logout.addEventListener('click', () => act(() => session.logOut()));

session.addEventListener('login', (e) => {
  const login = e.detail.login;
  el.loggedOut.hidden = login !== null;
  el.loggedIn.hidden = login === null;
  el.loginName.textContent = login ?? '';
});

// --- chat ----------------------------------------------------------------------------------
session.addEventListener('chat', (e) => {
  const chat = e.detail.chat;
  el.home.hidden = chat !== null;
  el.chat.hidden = chat === null;
  if (!chat) {
    el.target.value = '';
    el.code.value = '';
    return;
  }
  el.log.replaceChildren();
  items.clear();
  setComposerEnabled(true);
  if (chat.kind === 'room') {
    el.chatTitle.textContent = 'Room';
    el.roomCode.textContent = chat.code;
    el.roomCodeBox.hidden = false;
  } else {
    el.chatTitle.textContent = `Chat with ${chat.peerName}`;
    el.roomCodeBox.hidden = true;
  }
  renderPeers([]);
  el.text.focus();
});
session.addEventListener('peers', (e) => renderPeers(e.detail.peers));
session.addEventListener('notice', (e) => appendNotice(e.detail.text));
session.addEventListener('message', (e) => appendMessage(e.detail));
session.addEventListener('status', (e) => renderStatus(e.detail));
session.addEventListener('problem', (e) => showError(e.detail.text));
session.addEventListener('ended', () => {
  appendNotice('This chat has ended. Leave to start another one.');
  setComposerEnabled(false);
});

el.leave.addEventListener('click', () => act(() => session.leave()));
el.copy.addEventListener('click', async () => {
  const code = el.roomCode.textContent;
  try {
    await navigator.clipboard.writeText(code);
  } catch {
    // Clipboard API missing (insecure context) or refused: select the code instead.
    const range = document.createRange();
    range.selectNodeContents(el.roomCode);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand('copy');
  }
  el.copy.textContent = 'Copied';
  setTimeout(() => { el.copy.textContent = 'Copy'; }, 1500);
});

el.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  sendTyped();
});
el.text.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendTyped();
  }
});

function sendTyped() {
  const text = el.text.value;
  const result = session.send(text);
  if (!result.ok) {
    showError(result.error);
    return;
  }
  clearError();
  el.text.value = '';
}

function renderPeers(peers) {
  if (peers.length === 0) {
    el.peerList.textContent = session.chat?.kind === 'room' ? 'Waiting for someone to join…' : '';
    return;
  }
  const words = { connecting: 'connecting…', connected: 'connected', disconnected: 'disconnected', failed: 'could not connect' };
  el.peerList.textContent = 'With ' + peers
    .map((p) => `${p.name} (${words[p.state] ?? p.state})${p.interrupted ? ' · away from the server' : ''}`)
    .join(', ');
}

function appendMessage({ id, mine, name, sentAtMs, text }) {
  const li = document.createElement('li');
  li.className = mine ? 'msg mine' : 'msg';
  li.dataset.testid = 'message';
  li.dataset.id = id;
  li.dataset.mine = String(mine);
  const meta = document.createElement('div');
  meta.className = 'meta';
  const sender = document.createElement('span');
  sender.className = 'sender';
  sender.dataset.testid = 'sender';
  sender.textContent = mine ? `${name} (you)` : name;
  const time = document.createElement('time');
  time.dateTime = new Date(sentAtMs).toISOString();
  time.textContent = new Date(sentAtMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.append(sender, time);
  const body = document.createElement('div');
  body.className = 'text';
  body.dataset.testid = 'text';
  body.textContent = text;
  li.append(meta, body);
  if (mine) {
    const status = document.createElement('div');
    status.className = 'status';
    status.dataset.testid = 'status';
    li.append(status);
  }
  items.set(id, li);
  appendToLog(li);
}

function renderStatus({ id, status, delivered, total }) {
  const node = items.get(id)?.querySelector('.status');
  if (!node) return;
  node.dataset.status = status;
  node.textContent = {
    sent: 'Sent',
    delivered: '✓ Delivered',
    partial: `✓ Delivered to ${delivered} of ${total}`,
    failed: '✗ Not delivered',
  }[status];
}

function appendNotice(text) {
  const li = document.createElement('li');
  li.className = 'notice';
  li.dataset.testid = 'notice';
  li.textContent = text;
  appendToLog(li);
}

function appendToLog(node) {
  const atBottom = el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 40;
  el.log.append(node);
  if (atBottom) node.scrollIntoView({ block: 'end' });
}

function setComposerEnabled(enabled) {
  el.text.disabled = !enabled;
  el.send.disabled = !enabled;
}

async function act(action) {
  clearError();
  await action();
}

function showError(text) {
  el.banner.textContent = text;
  el.banner.hidden = false;
}

function clearError() {
  el.banner.hidden = true;
  el.banner.textContent = '';
}

signaling.connect();
