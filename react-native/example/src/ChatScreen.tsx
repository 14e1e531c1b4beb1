/**
 * Chat: the timeline (messages in order, delivery marks on own messages, peer joined/left and
 * interrupted/back notices), a "Reconnecting…" line while the engine dials the signaling
 * server again, the input with Send, and Leave back to Home.
 */
import { useState } from 'react';
import { Button, FlatList, KeyboardAvoidingView, StyleSheet, Text, TextInput, View } from 'react-native';
import type { DeliveryStatus, PeerChat, TimelineItem, TimelineNotice } from 'react-native-peerchat';

import { errorText } from './errorText';

/** The mark shown after an own message, and what a screen reader says for it. */
export const DELIVERY_MARKS: Record<DeliveryStatus, { mark: string; label: string }> = {
  sending: { mark: '…', label: 'sending' },
  sent: { mark: '✓', label: 'sent' },
  delivered: { mark: '✓✓', label: 'delivered' },
  failed: { mark: '!', label: 'not delivered' },
};

/** What a notice says after the peer's name. */
export const NOTICE_TEXT: Record<TimelineNotice['event'], string> = {
  peer_joined: 'joined',
  peer_left: 'left',
  peer_disconnected: 'disconnected',
  peer_timed_out: 'did not come back and left',
  peer_interrupted: 'is interrupted (lost the server; chat goes on while connected)',
  peer_resumed: 'is back',
};

function TimelineRow({ item }: { item: TimelineItem }) {
  if (item.kind === 'notice') {
    return (
      <Text style={styles.notice} testID={`notice-${item.id}`}>
        {`${item.name} ${NOTICE_TEXT[item.event]}`}
      </Text>
    );
  }
  const delivery = item.status === null ? null : DELIVERY_MARKS[item.status];
  return (
    <View style={[styles.bubble, item.own ? styles.own : styles.theirs]} testID={`message-${item.id}`}>
      {!item.own && <Text style={styles.sender}>{item.senderName}</Text>}
      <Text style={styles.text}>{item.text}</Text>
      {delivery !== null && (
        <Text style={styles.mark} testID={`status-${item.id}`} accessibilityLabel={delivery.label}>
          {delivery.mark}
        </Text>
      )}
    </View>
  );
}

export function ChatScreen({ chat }: { chat: PeerChat }) {
  const [draft, setDraft] = useState('');
  const peer = chat.peers[0];
  const peerLine =
    peer === undefined
      ? 'Nobody else is here'
      : chat.peers.map((p) => `${p.name} · ${p.state}${p.interrupted ? ' · interrupted' : ''}`).join(', ');
  const canSend = chat.chatReady && draft.trim().length > 0;

  const send = async () => {
    const text = draft;
    if (await chat.sendMessage(text)) {
      setDraft('');
    }
  };

  return (
    <KeyboardAvoidingView style={styles.screen} behavior="padding" testID="chat">
      <View style={styles.header}>
        <View style={styles.headerText}>
          <Text style={styles.room} testID="chat-room-code">Room {chat.room?.code}</Text>
          <Text testID="peer-line">{peerLine}</Text>
          {chat.signalingState === 'reconnecting' && (
            <Text style={styles.error} testID="reconnecting">
              {chat.reconnect === null
                ? 'Reconnecting…'
                : `Reconnecting… (attempt ${chat.reconnect.attempt}, next try in ${(chat.reconnect.nextRetryMs / 1000).toFixed(1)} s)`}
            </Text>
          )}
          {chat.signalingState === 'disconnected' && (
            <Text style={styles.error}>Lost the signaling server.</Text>
          )}
        </View>
        <Button title="Leave" testID="leave" onPress={() => void chat.leaveRoom()} />
      </View>
      <FlatList
        testID="timeline"
        style={styles.list}
        data={chat.timeline}
        keyExtractor={(item) => `${item.kind}-${item.id}`}
        renderItem={({ item }) => <TimelineRow item={item} />}
      />
      {chat.error !== null && <Text style={styles.error} testID="error">{errorText(chat.error)}</Text>}
      <View style={styles.inputRow}>
        <TextInput
          style={styles.input}
          testID="message-input"
          value={draft}
          onChangeText={setDraft}
          placeholder={chat.chatReady ? 'Message' : 'Waiting for the connection…'}
          onSubmitEditing={() => void send()}
        />
        <Button title="Send" testID="send" disabled={!canSend} onPress={() => void send()} />
      </View>
    </KeyboardAvoidingView>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1 },
  header: { flexDirection: 'row', alignItems: 'center', padding: 12, borderBottomWidth: 1, borderColor: '#ddd' },
  headerText: { flex: 1 },
  room: { fontWeight: '600', fontSize: 16 },
  list: { flex: 1, paddingHorizontal: 12 },
  notice: { textAlign: 'center', color: '#666', marginVertical: 6 },
  bubble: { maxWidth: '80%', borderRadius: 10, padding: 8, marginVertical: 4 },
  own: { alignSelf: 'flex-end', backgroundColor: '#d8ecff' },
  theirs: { alignSelf: 'flex-start', backgroundColor: '#eee' },
  sender: { fontSize: 12, color: '#555' },
  text: { fontSize: 16 },
  mark: { alignSelf: 'flex-end', fontSize: 12, color: '#1a73e8' },
  inputRow: { flexDirection: 'row', alignItems: 'center', padding: 8, gap: 8 },
  input: { flex: 1, borderWidth: 1, borderColor: '#999', borderRadius: 6, padding: 10, fontSize: 16 },
  error: { color: '#b00020', paddingHorizontal: 12 },
});
