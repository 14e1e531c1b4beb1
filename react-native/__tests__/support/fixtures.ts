/** Shared records for the tests. */
import type { NativeChatMessage, NativeRoomInfo } from '../../src/NativePeerChat';

export const ROOM_CODE = 'ABC-DEF-GHJ';

export function emptyRoom(code = ROOM_CODE): NativeRoomInfo {
  return { code, capacity: 2, members: [] };
}

export function roomWithAlice(code = ROOM_CODE): NativeRoomInfo {
  return { code, capacity: 2, members: [{ peerId: 'p-alice', name: 'Alice' }] };
}

export function messageFrom(peerId: string, senderName: string, text: string, seq: number): NativeChatMessage {
  return { id: `m-${peerId}-${seq}`, peerId, senderName, text, sentAtMs: 1_700_000_000_000 + seq, seq };
}
