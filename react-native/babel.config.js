// The package's own sources (src/) go through bob's preset, as create-react-native-library
// sets it up (`bob build` compiles src/ -> lib/module with it, and Jest uses the same);
// dependencies keep React Native's preset.
module.exports = {
  overrides: [
    {
      exclude: /\/node_modules\//,
      presets: ['module:react-native-builder-bob/babel-preset'],
    },
    {
      include: /\/node_modules\//,
      presets: ['module:@react-native/babel-preset'],
    },
  ],
};
