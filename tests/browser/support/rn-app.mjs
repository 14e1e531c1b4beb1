// The React Native example app (react-native/example: Home and Chat screens) running in
// Chromium through react-native-web, with the module's web implementation
// (react-native/src/NativePeerChat.web.ts). A page object over the app's testIDs (rendered by
// react-native-web as `data-testid`).
import { BrowserPage, launchChromium } from './browser.mjs';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class RnApp extends BrowserPage {
  /** Launches Chromium on the bundled example at `appUrl` and waits for the Home screen. */
  static async open(appUrl, label) {
    const { context, page, profile } = await launchChromium(appUrl, `rn-${label}`);
    const app = new RnApp(label, context, page, profile);
    await page.goto(appUrl);
    await app.byId('home').waitFor();
    return app;
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
}
