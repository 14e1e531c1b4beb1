/**
 * Home: server address, display name, "Create room" (then the code to share while waiting for
 * the peer) and "Join" with a code.
 */
import { ActivityIndicator, Button, Share, StyleSheet, Text, TextInput, View } from 'react-native';
import type { PeerChat } from 'react-native-peerchat';

import { errorText } from './errorText';

/** What the form holds; the app keeps it, so it survives a visit to Chat. */
export interface HomeForm {
  serverUrl: string;
  name: string;
  code: string;
}

export interface HomeScreenProps {
  chat: PeerChat;
  form: HomeForm;
  onFormChange(form: HomeForm): void;
}

export function HomeScreen({ chat, form, onFormChange }: HomeScreenProps) {
  const { serverUrl, name, code } = form;
  const onServerUrlChange = (value: string) => onFormChange({ ...form, serverUrl: value });
  const setName = (value: string) => onFormChange({ ...form, name: value });
  const setCode = (value: string) => onFormChange({ ...form, code: value });
  const busy = chat.phase !== 'idle' && chat.phase !== 'in_room';
  const canStart = name.trim().length > 0 && !busy;

  if (chat.room !== null) {
    // We created the room and nobody has joined yet.
    const roomCode = chat.room.code;
    return (
      <View style={styles.screen} testID="waiting">
        <Text style={styles.title}>Room created</Text>
        <Text style={styles.label}>Share this code with the person you want to chat with:</Text>
        <Text style={styles.code} selectable testID="room-code" accessibilityHint="Long-press to copy">
          {roomCode}
        </Text>
        <Button
          title="Share / copy code"
          testID="share-code"
          onPress={() => {
            void Share.share({ message: `Join my peerchat room: ${roomCode}` });
          }}
        />
        <View style={styles.row}>
          <ActivityIndicator />
          <Text style={styles.label}>Waiting for someone to join…</Text>
        </View>
        <Button title="Cancel" testID="cancel-room" onPress={() => void chat.leaveRoom()} />
        {chat.error !== null && <Text style={styles.error} testID="error">{errorText(chat.error)}</Text>}
      </View>
    );
  }

  return (
    <View style={styles.screen} testID="home">
      <Text style={styles.title}>peerchat</Text>
      <Text style={styles.label}>Signaling server</Text>
      <TextInput
        style={styles.input}
        testID="server-url"
        value={serverUrl}
        onChangeText={onServerUrlChange}
        autoCapitalize="none"
        autoCorrect={false}
        keyboardType="url"
      />
      <Text style={styles.label}>Your name</Text>
      <TextInput
        style={styles.input}
        testID="display-name"
        value={name}
        onChangeText={setName}
        placeholder="e.g. Alice"
        maxLength={32}
      />
      <Button
        title={chat.phase === 'creating' ? 'Creating…' : 'Create room'}
        testID="create-room"
        disabled={!canStart}
        onPress={() => void chat.createRoom(name.trim())}
      />
      <Text style={styles.label}>Or join a room</Text>
      <TextInput
        style={styles.input}
        testID="room-code-input"
        value={code}
        onChangeText={setCode}
        placeholder="ABC-DEF-GHJ"
        autoCapitalize="characters"
        autoCorrect={false}
      />
      <Button
        title={chat.phase === 'joining' ? 'Joining…' : 'Join'}
        testID="join-room"
        disabled={!canStart || code.trim().length === 0}
        onPress={() => void chat.joinRoom(name.trim(), code.trim())}
      />
      {chat.error !== null && <Text style={styles.error} testID="error">{errorText(chat.error)}</Text>}
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1, padding: 24, gap: 12, justifyContent: 'center' },
  title: { fontSize: 28, fontWeight: '600', textAlign: 'center' },
  label: { fontSize: 15 },
  input: { borderWidth: 1, borderColor: '#999', borderRadius: 6, padding: 10, fontSize: 16 },
  code: { fontSize: 32, fontWeight: '700', letterSpacing: 2, textAlign: 'center', paddingVertical: 12 },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8, justifyContent: 'center' },
  error: { color: '#b00020', fontSize: 15 },
});
