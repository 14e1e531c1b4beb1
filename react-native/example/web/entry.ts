/**
 * Web entry: `../index.ts` registers the app as `main` (react-native-web's AppRegistry under the
 * `react-native` alias); this mounts it into the page's #root.
 */
import { AppRegistry } from 'react-native';

import '../index';

AppRegistry.runApplication('main', { rootTag: document.getElementById('root') });
