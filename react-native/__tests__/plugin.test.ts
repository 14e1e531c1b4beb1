import { AndroidConfig } from '@expo/config-plugins';
import type { ExportedConfig } from '@expo/config-plugins';
import type { ExpoConfig } from '@expo/config-types';

import withPeerChat, {
  ANDROID_PERMISSIONS,
  DEFAULT_LOCAL_NETWORK_USAGE,
  withLocalNetworkUsage,
} from '../plugin/src';

test('iOS: adds the local network description, keeps one the app set', () => {
  expect(withLocalNetworkUsage({}, 'why')).toEqual({ NSLocalNetworkUsageDescription: 'why' });
  expect(withLocalNetworkUsage({ NSLocalNetworkUsageDescription: 'mine' }, 'why')).toEqual({
    NSLocalNetworkUsageDescription: 'mine',
  });
});

test('the plugin registers Android and iOS mods once', () => {
  const config: ExpoConfig = { name: 'example', slug: 'example' };
  const out = withPeerChat(withPeerChat(config, undefined), { localNetworkUsageDescription: 'x' }) as ExportedConfig;
  const mods = out.mods as Record<string, Record<string, unknown>>;
  expect(Object.keys(mods.android ?? {})).toContain('manifest');
  expect(Object.keys(mods.ios ?? {})).toContain('infoPlist');
  expect((out as { _internal?: { pluginHistory?: Record<string, unknown> } })._internal?.pluginHistory?.['react-native-peerchat']).toBeDefined();
  expect(DEFAULT_LOCAL_NETWORK_USAGE.length).toBeGreaterThan(0);
});

test('Android: the manifest mod adds INTERNET and ACCESS_NETWORK_STATE once', async () => {
  const config: ExpoConfig = { name: 'example', slug: 'example' };
  const out = withPeerChat(config, undefined) as ExportedConfig;
  const manifest: AndroidConfig.Manifest.AndroidManifest = {
    manifest: { $: { 'xmlns:android': 'http://schemas.android.com/apk/res/android' }, queries: [], 'uses-permission': [
      { $: { 'android:name': 'android.permission.INTERNET' } },
    ] },
  };
  const mod = (out.mods as { android: { manifest: (c: unknown) => Promise<{ modResults: typeof manifest }> } }).android.manifest;
  // The base mod is absent in a unit test: call the plugin's mod with a terminal next step.
  const result = await mod({ ...out, modResults: manifest, modRequest: { nextMod: async (c: unknown) => c } });
  const names = (result.modResults.manifest['uses-permission'] ?? []).map((p) => p.$['android:name']);
  expect(names.sort()).toEqual([...ANDROID_PERMISSIONS].sort());
});
