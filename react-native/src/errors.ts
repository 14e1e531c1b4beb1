/**
 * `PeerChatError`: every failure the module reports, with the engine's error code.
 */

/**
 * The engine's error codes (`EngineError` variants in snake_case), plus `native` for a failure
 * of the native module itself outside the engine (for example an unexpected exception).
 */
export const PEERCHAT_ERROR_CODES = [
  'invalid_config',
  'invalid_name',
  'invalid_room_code',
  'signaling',
  'server',
  'already_in_room',
  'not_in_room',
  'no_connected_peer',
  'outbox_full',
  'empty_message',
  'message_too_large',
  'web_rtc',
  'peer_protocol',
  'timeout',
  'shutdown',
  'queue_full',
  'cancelled',
  'store',
  'unknown_message',
  'unknown_peer',
  'native',
] as const;

/** One of {@link PEERCHAT_ERROR_CODES}. */
export type PeerChatErrorCode = (typeof PEERCHAT_ERROR_CODES)[number];

/** The signaling server's refusal codes (`ErrorCode` in `core/src/protocol.rs`). */
export const SERVER_ERROR_CODES = [
  'invalid_json',
  'unknown_type',
  'invalid_message',
  'binary_not_supported',
  'rate_limited',
  'invalid_name',
  'invalid_room_code',
  'room_not_found',
  'room_full',
  'already_in_room',
  'not_in_room',
  'login_taken',
  'already_logged_in',
  'not_logged_in',
  'peer_not_found',
  'relay_not_allowed',
  'invalid_target',
  'target_busy',
  'unauthorized',
  'internal',
] as const;

/** One of {@link SERVER_ERROR_CODES}. */
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Whether `value` is a {@link PeerChatErrorCode}. */
export function isPeerChatErrorCode(value: unknown): value is PeerChatErrorCode {
  return (
    typeof value === 'string' &&
    (PEERCHAT_ERROR_CODES as readonly string[]).includes(value)
  );
}

/** Whether `value` is a {@link ServerErrorCode}. */
export function isServerErrorCode(value: unknown): value is ServerErrorCode {
  return (
    typeof value === 'string' &&
    (SERVER_ERROR_CODES as readonly string[]).includes(value)
  );
}

/**
 * An error from the engine or the native module.
 *
 * `code` is the engine's error code; when it is `server`, `serverCode` says what the signaling
 * server refused (`room_full`, `room_not_found`, …).
 */
export class PeerChatError extends Error {
  /** The engine's error code. */
  readonly code: PeerChatErrorCode;
  /** The server's refusal code; set only when `code` is `server`. */
  readonly serverCode: ServerErrorCode | undefined;

  constructor(
    code: PeerChatErrorCode,
    message: string,
    serverCode?: ServerErrorCode,
  ) {
    super(message);
    this.name = 'PeerChatError';
    this.code = code;
    this.serverCode = code === 'server' ? serverCode : undefined;
    // Keeps `instanceof` working when compiled to ES5 classes.
    Object.setPrototypeOf(this, PeerChatError.prototype);
  }
}

type NativeRejection = {
  code?: unknown;
  message?: unknown;
  userInfo?: { code?: unknown; serverCode?: unknown } | null;
};

/**
 * Turns what a native promise rejected with (an `Error` with `code` and `userInfo`, as React
 * Native builds it) into a {@link PeerChatError}. Unknown codes become `native`, keeping the
 * original message.
 */
export function toPeerChatError(error: unknown): PeerChatError {
  if (error instanceof PeerChatError) {
    return error;
  }
  const rejection = (
    typeof error === 'object' && error !== null ? error : {}
  ) as NativeRejection;
  const message =
    typeof rejection.message === 'string' ? rejection.message : String(error);
  const rawCode = rejection.userInfo?.code ?? rejection.code;
  const rawServerCode = rejection.userInfo?.serverCode;
  return fromCodes(rawCode, message, rawServerCode);
}

/**
 * Builds a {@link PeerChatError} from the loosely typed fields of a native event or rejection.
 */
export function fromCodes(
  rawCode: unknown,
  message: string,
  rawServerCode: unknown,
): PeerChatError {
  if (!isPeerChatErrorCode(rawCode)) {
    return new PeerChatError(
      'native',
      `${message} (native code ${JSON.stringify(rawCode ?? null)})`,
    );
  }
  if (rawCode === 'server') {
    return new PeerChatError(
      'server',
      message,
      isServerErrorCode(rawServerCode) ? rawServerCode : 'internal',
    );
  }
  return new PeerChatError(rawCode, message);
}
