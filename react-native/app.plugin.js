// Expo resolves `"plugins": ["react-native-peerchat"]` to this file. Build it with
// `npm run build:plugin` (plugin/src -> plugin/build) before `expo prebuild`.
module.exports = require('./plugin/build').default;
