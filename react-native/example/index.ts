/**
 * Entry point: registers the app under `main`, the name an Expo dev client (and Expo's
 * `registerRootComponent`) opens.
 */
import { AppRegistry } from 'react-native';

import App from './App';

AppRegistry.registerComponent('main', () => App);
