#!/usr/bin/env node
// Adds lockfile entries for optional platform packages the registry reachable here does not
// serve (e.g. @unrs/resolver-binding-darwin-arm64, a dependency of jest 30's resolver), so that
// `npm ci` accepts the lock. The entries carry version, os/cpu (from the package name) and
// `optional`; npm skips them on other platforms and never downloads them on this one.
// Run after regenerating a lock: `node scripts/lock-add-missing-optional.js [path/to/package-lock.json]`.
const fs = require('fs');
const path = require('path');

const file = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'package-lock.json'));
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const OS = { darwin: 'darwin', linux: 'linux', win32: 'win32', freebsd: 'freebsd', android: 'android', openharmony: 'openharmony', wasm32: null };
let added = 0;
for (const [where, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    const entry = { version, dev: pkg.dev === true ? true : undefined, optional: true };
    const m = /binding-([a-z0-9]+)-([a-z0-9]+)/.exec(name);
    if (m && OS[m[1]]) {
      entry.cpu = [m[2] === 'arm' ? 'arm' : m[2]];
      entry.os = [OS[m[1]]];
    }
    lock.packages[`node_modules/${name}`] = JSON.parse(JSON.stringify(entry));
    added += 1;
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} missing optional entries`);
