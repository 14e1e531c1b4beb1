/** Jest: the hook, the engine wrapper and the example's screens, against a test double of the
 * `PeerChat` Turbo Module that implements its codegen spec (src/NativePeerChat.ts). */
module.exports = {
  preset: '@react-native/jest-preset',
  testTimeout: 30000,
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  setupFiles: ['<rootDir>/jest.setup.ts'],
  moduleNameMapper: {
    '^react-native-peerchat$': '<rootDir>/src/index.ts',
  },
  modulePathIgnorePatterns: ['<rootDir>/example/node_modules', '<rootDir>/lib/'],
};
