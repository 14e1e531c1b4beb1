/**
 * The signaling server the app offers by default.
 *
 * `EXPO_PUBLIC_SIGNALING_URL` is inlined by Expo's bundler at build time; without it, the
 * Android emulator's alias of the host's loopback (`10.0.2.2`) on port 7777 is used. The Home
 * screen lets the user change it before creating or joining a room.
 */
export const DEFAULT_SIGNALING_URL: string =
  process.env.EXPO_PUBLIC_SIGNALING_URL ?? 'ws://10.0.2.2:7777/ws';
