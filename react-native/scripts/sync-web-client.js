#!/usr/bin/env node
// The web implementation of the module (src/NativePeerChat.web.ts) reuses the browser client's
// protocol modules (../web/static: signaling, session, peer links, chat frames, protocol
// helpers) instead of a second implementation. They are committed here byte for byte as copies
// (src/web/*.js) so that the published package is self-contained; this script keeps them so.
//
//   node scripts/sync-web-client.js          copy ../web/static/<file> → src/web/<file>
//   node scripts/sync-web-client.js --check  exit 1, naming each copy that differs (CI, Jest)
'use strict';
const fs = require('fs');
const path = require('path');

/** The browser client's modules the web implementation imports (directly or through session.js). */
const FILES = ['chat-frames.js', 'peer.js', 'protocol.js', 'session.js', 'signaling.js'];
const from = path.resolve(__dirname, '..', '..', 'web', 'static');
const to = path.resolve(__dirname, '..', 'src', 'web');

const check = process.argv.includes('--check');
const stale = [];
fs.mkdirSync(to, { recursive: true });
for (const f of FILES) {
  const want = fs.readFileSync(path.join(from, f));
  const have = fs.existsSync(path.join(to, f)) ? fs.readFileSync(path.join(to, f)) : null;
  if (have !== null && have.equals(want)) continue;
  if (check) stale.push(f);
  else fs.writeFileSync(path.join(to, f), want);
}
if (stale.length > 0) {
  console.error(
    `sync-web-client: react-native/src/web/{${stale.join(',')}} differ from web/static; ` +
      'run `node scripts/sync-web-client.js` in react-native/ and commit the copies',
  );
  process.exit(1);
}
console.log(check ? `sync-web-client: the ${FILES.length} copies match web/static` : `sync-web-client: copied ${FILES.length} modules`);
