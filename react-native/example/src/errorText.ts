/** User-facing text for a {@link PeerChatError}. */
import type { PeerChatError } from 'react-native-peerchat';

export function errorText(error: PeerChatError): string {
  switch (error.code) {
    case 'server':
      switch (error.serverCode) {
        case 'room_full':
          return 'That room is full.';
        case 'room_not_found':
          return 'No room has that code. Check the code, or create a new room.';
        case 'invalid_room_code':
          return 'That is not a room code. Codes look like ABC-DEF-GHJ.';
        case 'invalid_name':
          return 'The server refused that name. Use 1 to 32 characters.';
        default:
          return `The server refused: ${error.message}`;
      }
    case 'invalid_room_code':
      return 'That is not a room code. Codes look like ABC-DEF-GHJ.';
    case 'invalid_name':
      return 'Choose a name of 1 to 32 characters.';
    case 'invalid_config':
      return `Check the server address (ws://host:port/ws). ${error.message}`;
    case 'signaling':
      return 'Cannot reach the signaling server. Check the server address and that it is running.';
    case 'timeout':
      return 'The server did not answer in time. Try again.';
    case 'no_connected_peer':
      return 'Your peer is not connected yet.';
    case 'message_too_large':
      return 'That message is too long.';
    case 'empty_message':
      return 'Type a message first.';
    default:
      return error.message;
  }
}
