// The per-file fixture of the browser tests: one `peerchat serve` for the file, pages opened
// through `open(label)`, and everything closed (with console logs saved under `prefix`) at
// the end. Call inside a `describe` block.
import { after, before } from 'node:test';
import { ChatPage } from './browser.mjs';
import { stopAll } from './processes.mjs';
import { startServer } from './server.mjs';

/** Registers before/after hooks; returns `{ server(), open(label, options) }`. */
export function serverAndPages(prefix) {
  let server;
  const pages = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await Promise.all(pages.map((p) => p.close(prefix)));
    await stopAll();
  });
  return {
    server: () => server,
    open: async (label, options) => {
      const p = await ChatPage.open(server.baseUrl, label, options);
      pages.push(p);
      return p;
    },
  };
}
