/**
 * Expo config plugin of react-native-peerchat, for `expo prebuild` / an Expo dev client.
 *
 * Autolinking already adds the native module; this plugin sets what the engine needs from the
 * app's native projects:
 * - Android: the INTERNET and ACCESS_NETWORK_STATE permissions (WebSocket to the signaling
 *   server, UDP sockets for ICE).
 * - iOS: `NSLocalNetworkUsageDescription`, which iOS 14+ requires before an app may reach peers
 *   or a signaling server on the local network.
 *
 * Usage in app.json: `"plugins": [["react-native-peerchat", { "localNetworkUsageDescription": "…" }]]`.
 */
import { AndroidConfig, createRunOncePlugin, withAndroidManifest, withInfoPlist } from '@expo/config-plugins';
import type { ConfigPlugin, InfoPlist } from '@expo/config-plugins';

/** Options of the plugin. */
export interface PeerChatPluginProps {
  /** Text iOS shows when asking for local network access. */
  localNetworkUsageDescription?: string;
}

/** Android permissions the engine needs. */
export const ANDROID_PERMISSIONS = ['android.permission.INTERNET', 'android.permission.ACCESS_NETWORK_STATE'];

/** Used when `localNetworkUsageDescription` is not given. */
export const DEFAULT_LOCAL_NETWORK_USAGE =
  'peerchat connects directly to the people you chat with, which can be on your local network.';

/** Adds `NSLocalNetworkUsageDescription` unless the app already set one. */
export function withLocalNetworkUsage(infoPlist: InfoPlist, description: string): InfoPlist {
  if (typeof infoPlist.NSLocalNetworkUsageDescription === 'string' && infoPlist.NSLocalNetworkUsageDescription !== '') {
    return infoPlist;
  }
  return { ...infoPlist, NSLocalNetworkUsageDescription: description };
}

const withPeerChat: ConfigPlugin<PeerChatPluginProps | void> = (config, props) => {
  const description = (props && props.localNetworkUsageDescription) || DEFAULT_LOCAL_NETWORK_USAGE;
  config = withAndroidManifest(config, (c) => {
    AndroidConfig.Permissions.ensurePermissions(c.modResults, ANDROID_PERMISSIONS);
    return c;
  });
  config = withInfoPlist(config, (c) => {
    c.modResults = withLocalNetworkUsage(c.modResults, description);
    return c;
  });
  return config;
};

export default createRunOncePlugin(withPeerChat, 'react-native-peerchat', '0.1.0');
