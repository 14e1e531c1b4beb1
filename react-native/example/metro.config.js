// Metro for the example: resolves react-native-peerchat to ../src (live source) and takes
// react / react-native only from example/node_modules, so the library's own dev copies in
// ../node_modules are never bundled twice.
const path = require('path');
const { getDefaultConfig } = require('expo/metro-config');

const root = path.resolve(__dirname, '..');
const config = getDefaultConfig(__dirname);

config.watchFolders = [root];
config.resolver.nodeModulesPaths = [path.resolve(__dirname, 'node_modules')];
config.resolver.blockList = [
  new RegExp(`^${path.resolve(root, 'node_modules').replace(/[/\\\\]/g, '[/\\\\]')}[/\\\\](react|react-native)[/\\\\].*`),
];
config.resolver.extraNodeModules = {
  'react-native-peerchat': root,
};

module.exports = config;
