/**
 * The example app: Home until a room has another member (or was joined), then Chat.
 */
import { useState } from 'react';
import { StyleSheet, View } from 'react-native';
import { usePeerChat } from 'react-native-peerchat';

import { ChatScreen } from './src/ChatScreen';
import { DEFAULT_SIGNALING_URL } from './src/config';
import { HomeScreen } from './src/HomeScreen';
import type { HomeForm } from './src/HomeScreen';

export default function App({ initialServerUrl = DEFAULT_SIGNALING_URL }: { initialServerUrl?: string }) {
  const [form, setForm] = useState<HomeForm>({ serverUrl: initialServerUrl, name: '', code: '' });
  const chat = usePeerChat({ signalingUrl: form.serverUrl.trim() });
  const inChat =
    chat.room !== null && (!chat.createdRoom || chat.peers.length > 0 || chat.timeline.length > 0);
  return (
    <View style={styles.root}>
      {inChat ? (
        <ChatScreen chat={chat} />
      ) : (
        <HomeScreen chat={chat} form={form} onFormChange={setForm} />
      )}
    </View>
  );
}

const styles = StyleSheet.create({ root: { flex: 1, paddingTop: 32 } });
