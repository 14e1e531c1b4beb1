// Checks on the ICE candidates a Chromium page gathered, per network mode.
import assert from 'node:assert/strict';
import { NET_MODE } from './env.mjs';

const MDNS_HOST = /^candidate:\S+ \d+ udp \d+ [0-9a-f-]{36}\.local \d+ typ host/;
const LOOPBACK_HOST = /^candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ host/;

/**
 * Asserts that the page's links used the candidates its mode promises: mDNS `.local` names
 * only (no raw address) in `mdns` mode, 127.0.0.1 host candidates in `loopback` mode; and
 * that a candidate pair was selected. Returns the first link's diagnostics.
 */
export async function assertCandidateMode(chatPage) {
  const links = await chatPage.diagnostics();
  assert.ok(links.length > 0, `${chatPage.label} has no peer link`);
  for (const link of links) {
    assert.ok(link.localCandidates.length > 0, `${chatPage.label}: no local candidates`);
    if (NET_MODE === 'mdns') {
      for (const c of link.localCandidates) {
        assert.match(c, MDNS_HOST, `${chatPage.label}: expected only mDNS host candidates, got ${c}`);
      }
    } else {
      assert.ok(link.localCandidates.some((c) => LOOPBACK_HOST.test(c)),
        `${chatPage.label}: expected a 127.0.0.1 host candidate in ${JSON.stringify(link.localCandidates)}`);
    }
    assert.ok(link.selectedPair?.local && link.selectedPair?.remote, `${chatPage.label}: no selected candidate pair`);
  }
  return links[0];
}
