/**
 * react-native-peerchat: peer-to-peer chat over WebRTC data channels, driven by the peerchat
 * Rust engine through its uniffi bindings.
 */
export { createEngine } from './engine';
export type { PeerChatEngine, PeerChatEventName, PeerChatEvents, Subscription } from './engine';
export {
  PEERCHAT_ERROR_CODES,
  PeerChatError,
  SERVER_ERROR_CODES,
  isPeerChatErrorCode,
  isServerErrorCode,
} from './errors';
export type { PeerChatErrorCode, ServerErrorCode } from './errors';
export { usePeerChat, summarizeDeliveries } from './usePeerChat';
export type {
  DeliveryStatus,
  PeerChat,
  PeerChatPhase,
  PeerChatState,
  PeerView,
  TimelineItem,
  TimelineMessage,
  TimelineNotice,
  UsePeerChatOptions,
} from './usePeerChat';
export { DEFAULT_PEER_CONNECT_TIMEOUT_MS, DEFAULT_SIGNALING_TIMEOUT_MS, ICE_TRANSPORT_POLICIES } from './types';
export type {
  ChatMessage,
  IceServer,
  IceTransportPolicy,
  LeaveReason,
  MessageStatus,
  Peer,
  PeerChatConfig,
  PeerState,
  ReconnectInfo,
  RoomInfo,
  SignalingState,
} from './types';
