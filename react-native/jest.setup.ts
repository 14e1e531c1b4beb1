/**
 * Installs the `PeerChat` test double behind React Native's own TurboModuleRegistry, so the
 * real `src/NativePeerChat.ts` runs and receives the double from `getEnforcing('PeerChat')`.
 * Every other module name goes to the real registry (and the jest preset's mocks).
 */
jest.mock('react-native/Libraries/TurboModule/TurboModuleRegistry', () => {
  const actual = jest.requireActual('react-native/Libraries/TurboModule/TurboModuleRegistry');
  const { fakeNative } = require('./__tests__/support/fakeNativePeerChat');
  return {
    ...actual,
    get: (name: string) => (name === 'PeerChat' ? fakeNative() : actual.get(name)),
    getEnforcing: (name: string) => (name === 'PeerChat' ? fakeNative() : actual.getEnforcing(name)),
  };
});
