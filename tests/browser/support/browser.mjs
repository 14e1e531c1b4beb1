// Real Chromium (Debian's, never a downloaded one) driven by playwright-core, one browser
// process and fresh profile per chat participant, and a page object for the peerchat UI.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS_DIR, CHROMIUM, LOOPBACK, WAIT_MS } from './env.mjs';

/** Flags that keep Chromium from reaching any outside host (see field notes). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost, EXCLUDE *.local',
  '--disable-features=NetworkTimeServiceQuerying,OptimizationHints,PreconnectToSearch,MediaRouter',
];

/** Phone-sized viewport (CSS px) used for every page, so screenshots show the phone layout. */
export const PHONE_VIEWPORT = { width: 390, height: 780 };

/**
 * Launches Chromium with a fresh user-data-dir (phone viewport, no outside traffic). With
 * `loopback` the page at `origin` gets camera/microphone permission, which with
 * `--allow-loopback-in-peer-connection` makes its host candidates 127.0.0.1; without it
 * Chromium keeps its default mDNS `.local` host candidates. Returns `{context, page, profile}`.
 */
export async function launchChromium(origin, label, { loopback = LOOPBACK } = {}) {
  const profile = await mkdtemp(join(tmpdir(), `peerchat-${label}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(loopback ? ['--allow-loopback-in-peer-connection'] : [])],
    viewport: PHONE_VIEWPORT,
    deviceScaleFactor: 2,
    isMobile: false,
    timeout: WAIT_MS,
  });
  if (loopback) await context.grantPermissions(['camera', 'microphone'], { origin });
  context.setDefaultTimeout(WAIT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, profile };
}

/** One Chromium page under test: console capture, test ids, screenshots, clean close. */
export class BrowserPage {
  constructor(label, context, page, profile) {
    this.label = label;
    this.context = context;
    this.page = page;
    this.profile = profile;
    this.console = [];
    page.on('console', (m) => this.console.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.console.push(`[pageerror] ${e.message}`));
  }

  byId(id) {
    return this.page.getByTestId(id);
  }

  async screenshot(name) {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const path = join(ARTIFACTS_DIR, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** Closes Chromium, keeps its console log as an artifact, removes the profile. */
  async close(testName = 'test') {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    await writeFile(join(ARTIFACTS_DIR, `${testName}-${this.label}.console.log`), this.console.join('\n'));
    await this.context.close().catch(() => {});
    await rm(this.profile, { recursive: true, force: true });
  }
}

/** A chat participant: one Chromium with a fresh user-data-dir and one peerchat page. */
export class ChatPage extends BrowserPage {
  /**
   * Launches Chromium and opens the peerchat page at `baseUrl`.
   * With `loopback` (default: the namespace's mode) the page may use 127.0.0.1 host
   * candidates (`--allow-loopback-in-peer-connection` + camera/microphone permission);
   * without it Chromium keeps its default mDNS `.local` host candidates.
   */
  /**
   * With `hideRemoteCandidates`, the test sits between the page and `/ws` and drops every ICE
   * candidate the other peer sends (trickled `ice_candidate` messages and `a=candidate` lines
   * in relayed SDP): Chromium then never sends a connectivity check itself, and a connection
   * can only form if the other peer reaches Chromium's own (mDNS) candidates first.
   */
  static async open(baseUrl, label, { loopback = LOOPBACK, hideRemoteCandidates = false } = {}) {
    const { context, page, profile } = await launchChromium(baseUrl, label, { loopback });
    const chat = new ChatPage(label, context, page, profile);
    if (hideRemoteCandidates) await hideCandidatesFrom(page, chat);
    await page.goto(baseUrl);
    await page.locator('[data-testid="server-state"][data-state="open"]').waitFor();
    return chat;
  }

  async setName(name) {
    await this.byId('name-input').fill(name);
  }

  /** Creates a room; returns the code as rendered in the chat view. */
  async createRoom(name) {
    await this.setName(name);
    await this.byId('create-room').click();
    await this.byId('chat-view').waitFor();
    return (await this.byId('room-code').textContent()).trim();
  }

  /** Types `code` and joins (without waiting for the chat view: the server may refuse). */
  async typeCodeAndJoin(name, code) {
    await this.setName(name);
    await this.byId('code-input').fill(code);
    await this.byId('join-room').click();
  }

  async joinRoom(name, code) {
    await this.typeCodeAndJoin(name, code);
    await this.byId('chat-view').waitFor();
  }

  async logIn(name) {
    await this.setName(name);
    await this.byId('login').click();
  }

  async connectTo(name) {
    await this.byId('target-input').fill(name);
    await this.byId('connect').click();
  }

  /** Waits until the peer list shows `name (connected)`. */
  async waitConnected(name) {
    try {
      await this.page.locator('[data-testid="peer-list"]', { hasText: `${name} (connected)` }).waitFor();
    } catch (err) {
      const peers = await this.byId('peer-list').textContent().catch(() => '?');
      const diag = await this.diagnostics().catch((e) => String(e));
      err.message += `\n${this.label}: peer list "${peers}"; links: ${JSON.stringify(diag, null, 1)}`;
      throw err;
    }
  }

  /** Types `text` and presses Enter. */
  async send(text) {
    await this.byId('message-input').fill(text);
    await this.byId('message-input').press('Enter');
  }

  /** Waits for a message with exactly this text from the other side. */
  async waitForMessage(text) {
    await this.#message(text, false).waitFor();
  }

  /** Waits for our own message `text` to show the delivered mark. */
  async waitDelivered(text) {
    await this.#message(text, true).locator('[data-testid="status"][data-status="delivered"]').waitFor();
  }

  /** Waits for a join/leave/connection notice containing `text`. */
  async waitForNotice(text) {
    await this.page.locator('[data-testid="notice"]', { hasText: text }).first().waitFor();
  }

  /** Waits until the header shows the signaling state `state` (`open`, `reconnecting`, …). */
  async waitServerState(state) {
    await this.page.locator(`[data-testid="server-state"][data-state="${state}"]`).waitFor();
  }

  /**
   * Starts recording the signaling client's states in the page (`window.__states`), so a
   * test can check a sequence that passes faster than it could poll.
   */
  async recordStates() {
    await this.page.evaluate(() => {
      window.__states = [];
      window.peerchat.signaling.addEventListener('state', (e) => {
        window.__states.push({ state: e.detail, attempt: window.peerchat.signaling.attempt, nextRetryMs: window.peerchat.signaling.nextRetryMs });
      });
    });
  }

  /** The states recorded since recordStates(). */
  recordedStates() {
    return this.page.evaluate(() => window.__states);
  }

  /** The signaling peer id of this page's session. */
  peerId() {
    return this.page.evaluate(() => window.peerchat.signaling.peerId);
  }

  /** The text of every notice in the chat log, in order. */
  notices() {
    return this.page.locator('[data-testid="notice"]').allTextContents();
  }

  /** The rendered chat log: messages `{mine, sender, time, text, status}` in display order. */
  async messages() {
    return this.page.locator('[data-testid="message"]').evaluateAll((nodes) =>
      nodes.map((n) => ({
        mine: n.dataset.mine === 'true',
        sender: n.querySelector('[data-testid="sender"]').textContent,
        time: n.querySelector('time').textContent,
        text: n.querySelector('[data-testid="text"]').textContent,
        status: n.querySelector('[data-testid="status"]')?.textContent ?? null,
      })));
  }

  /** The error banner's text once it shows. */
  async errorText() {
    await this.byId('error').waitFor();
    return (await this.byId('error').textContent()).trim();
  }

  async leave() {
    await this.byId('leave').click();
    await this.byId('home-view').waitFor();
  }

  /** Candidates and selected candidate pair of every peer link (from the page's session). */
  async diagnostics() {
    return this.page.evaluate(() => window.peerchat.session.diagnostics());
  }

  /** Saves a PNG of the viewport to artifacts/browser/<name>.png; returns its path. */
  #message(text, mine) {
    return this.page
      .locator(`[data-testid="message"][data-mine="${mine}"]`)
      .filter({ has: this.page.locator('[data-testid="text"]', { hasText: new RegExp(`^${escapeRe(text)}$`) }) });
  }
}

async function hideCandidatesFrom(page, chat) {
  chat.hiddenCandidates = 0;
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((data) => {
      const msg = JSON.parse(data);
      if (msg.type === 'ice_candidate') {
        chat.hiddenCandidates++;
        return;
      }
      if ((msg.type === 'offer' || msg.type === 'answer') && msg.sdp.includes('a=candidate')) {
        const lines = msg.sdp.split('\r\n');
        const kept = lines.filter((l) => !l.startsWith('a=candidate'));
        chat.hiddenCandidates += lines.length - kept.length;
        msg.sdp = kept.join('\r\n');
      }
      ws.send(JSON.stringify(msg));
    });
  });
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
