/**
 * src/web/*.js are byte-for-byte copies of the browser client's modules (../web/static), which
 * the web implementation (src/NativePeerChat.web.ts) reuses; `node scripts/sync-web-client.js`
 * refreshes them. This fails as soon as one differs.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

test('src/web holds exact copies of web/static', () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'sync-web-client.js'), '--check'], {
    encoding: 'utf8',
  });
  expect(`${r.stdout}${r.stderr}`).toContain('copies match web/static');
  expect(r.status).toBe(0);
});
