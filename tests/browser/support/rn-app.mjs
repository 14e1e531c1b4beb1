// The React Native example app (react-native/example: Home and Chat screens) running in
// Chromium through react-native-web, with the module's web implementation
// (react-native/src/NativePeerChat.web.ts). A page object over the app's testIDs (rendered by
// react-native-web as `data-testid`).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, PHONE_VIEWPORT } from './browser.mjs';
import { ARTIFACTS_DIR, CHROMIUM, LOOPBACK, WAIT_MS } from './env.mjs';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class RnApp {
  /** Launches Chromium on the bundled example at `appUrl` and waits for the Home screen. */
  static async open(appUrl, label) {
    const profile = await mkdtemp(join(tmpdir(), `peerchat-rn-${label}-`));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...(LOOPBACK ? ['--allow-loopback-in-peer-connection'] : [])],
      viewport: PHONE_VIEWPORT,
      deviceScaleFactor: 2,
      timeout: WAIT_MS,
    });
    // Camera/microphone permission makes Chromium expose 127.0.0.1 host candidates (loopback
    // namespace); nothing is captured.
    if (LOOPBACK) await context.grantPermissions(['camera', 'microphone'], { origin: appUrl });
    context.setDefaultTimeout(WAIT_MS);
    const page = context.pages()[0] ?? (await context.newPage());
    const app = new RnApp(label, context, page, profile);
    await page.goto(appUrl);
    await app.byId('home').waitFor();
    return app;
  }

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
    return this.page.getByTestId(id, { exact: true });
  }

  /** Fills the Home form: the signaling server's URL and the display name. */
  async fillHome(wsUrl, name) {
    await this.byId('server-url').fill(wsUrl);
    await this.byId('display-name').fill(name);
  }

  /** Home → "Create room"; resolves with the code the waiting screen shows. */
  async createRoom(wsUrl, name) {
    await this.fillHome(wsUrl, name);
    await this.byId('create-room').click();
    await this.byId('waiting').waitFor();
    return (await this.byId('room-code').textContent()).trim();
  }

  /** Home → code → "Join"; resolves once the Chat screen shows. */
  async joinRoom(wsUrl, name, code) {
    await this.fillHome(wsUrl, name);
    await this.byId('room-code-input').fill(code);
    await this.byId('join-room').click();
    await this.byId('chat').waitFor();
  }

  /** Waits until the Chat header lists `name` as `connected` (data channel open). */
  async waitPeer(name, state = 'connected') {
    await this.page.locator('[data-testid="peer-line"]', { hasText: `${name} · ${state}` }).waitFor();
  }

  /** Types `text` and presses Send (which is enabled only while chat is ready). */
  async send(text) {
    await this.byId('message-input').fill(text);
    await this.byId('send').click();
  }

  /** The timeline bubble whose text is exactly `text`. */
  bubble(text) {
    return this.page
      .locator('[data-testid^="message-"]')
      .filter({ has: this.page.getByText(new RegExp(`^${escapeRe(text)}$`)) });
  }

  /** Waits for a received message (with the sender's name shown above it). */
  async waitMessage(from, text) {
    await this.bubble(text).filter({ hasText: from }).waitFor();
  }

  /** Waits until our message `text` shows the delivered mark ✓✓. */
  async waitDelivered(text) {
    await this.bubble(text).locator('[data-testid^="status-"][aria-label="delivered"]').waitFor();
  }

  /** Waits for a timeline notice such as "Rusty left". */
  async waitNotice(text) {
    await this.page.locator('[data-testid^="notice-"]', { hasText: text }).first().waitFor();
  }

  async screenshot(name) {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    const path = join(ARTIFACTS_DIR, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** Closes Chromium, keeps its console log as an artifact, removes the profile. */
  async close(prefix = 'rn') {
    await mkdir(ARTIFACTS_DIR, { recursive: true });
    await writeFile(join(ARTIFACTS_DIR, `${prefix}-${this.label}.console.log`), this.console.join('\n'));
    await this.context.close().catch(() => {});
    await rm(this.profile, { recursive: true, force: true });
  }
}
