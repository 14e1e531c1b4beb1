// Signaling protocol helpers: mirrors core/src/protocol.rs (the contract) for the browser.
// One WebSocket text frame carries one JSON object whose `type` names the message.

/** Version of the signaling protocol this client speaks (`welcome.protocol_version`). */
export const PROTOCOL_VERSION = 2;

/** WebSocket subprotocol that asks the server for protocol version 2 (sessions). */
export const SUBPROTOCOL_V2 = 'peerchat.v2';

/** Longest display name or login, in Unicode scalar values, after trimming. */
export const MAX_NAME_CHARS = 32;

/** Room-code alphabet: digits and upper-case letters without the ambiguous 0 1 I L O U. */
export const ROOM_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Symbols in a room code, without separators. */
export const ROOM_CODE_LEN = 9;

/** A room code is shown in groups of this many symbols separated by `-`. */
export const ROOM_CODE_GROUP = 3;

/**
 * Turns what a person typed into the canonical `ABC-DEF-GHJ` form.
 * Case, `-` and white space are ignored.
 * @param {string} input
 * @returns {{ok: true, code: string} | {ok: false, error: string}} the error is a sentence.
 */
export function normalizeRoomCode(input) {
  const symbols = [];
  for (const c of input) {
    if (c === '-' || /\s/u.test(c)) continue;
    const upper = c.toUpperCase();
    if (upper.length !== 1 || !ROOM_CODE_ALPHABET.includes(upper)) {
      return { ok: false, error: `“${c}” cannot appear in a room code.` };
    }
    symbols.push(upper);
  }
  if (symbols.length !== ROOM_CODE_LEN) {
    return {
      ok: false,
      error: `A room code has ${ROOM_CODE_LEN} characters; this one has ${symbols.length}.`,
    };
  }
  return { ok: true, code: formatRoomCode(symbols) };
}

/**
 * Formats ROOM_CODE_LEN symbols as `ABC-DEF-GHJ`.
 * @param {string[]} symbols
 */
export function formatRoomCode(symbols) {
  let out = '';
  symbols.forEach((c, i) => {
    if (i > 0 && i % ROOM_CODE_GROUP === 0) out += '-';
    out += c;
  });
  return out;
}

/**
 * Trims a display name or login and checks it: 1..=MAX_NAME_CHARS chars, no control chars.
 * @param {string} input
 * @returns {{ok: true, name: string} | {ok: false, error: string}}
 */
export function validateName(input) {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, error: 'Please enter a name.' };
  const count = [...trimmed].length;
  if (count > MAX_NAME_CHARS) {
    return {
      ok: false,
      error: `A name has at most ${MAX_NAME_CHARS} characters; this one has ${count}.`,
    };
  }
  if (/\p{Cc}/u.test(trimmed)) return { ok: false, error: 'A name cannot contain control characters.' };
  return { ok: true, name: trimmed };
}

/**
 * A sentence for a server `error` message, for people rather than programs.
 * @param {{code: string, message?: string}} error the server's `error` message.
 * @param {{code?: string, login?: string, target?: string}} [context] what the user asked for.
 */
export function describeServerError(error, context = {}) {
  const code = context.code ? ` ${context.code}` : '';
  switch (error.code) {
    case 'room_full':
      return `The room${code} is full. Ask for a new code or create your own room.`;
    case 'room_not_found':
      return `No room has the code${code}. Check the code, or ask for a new one.`;
    case 'invalid_room_code':
      return `That is not a valid room code${error.message ? `: ${error.message}` : '.'}`;
    case 'login_taken':
      return `The name “${context.login ?? ''}” is already taken. Please choose another.`;
    case 'already_logged_in':
      return 'You are already logged in.';
    case 'not_logged_in':
      return 'Log in first to chat by name.';
    case 'invalid_name':
      return `That name cannot be used${error.message ? `: ${error.message}` : '.'}`;
    case 'peer_not_found':
      return context.target
        ? `Nobody called “${context.target}” is logged in right now.`
        : 'That person is no longer connected.';
    case 'already_in_room':
      return 'You are already in a room. Leave it first.';
    case 'not_in_room':
      return 'You are not in a room.';
    case 'rate_limited':
      return 'Too many requests at once; please wait a moment and try again.';
    case 'unauthorized':
      return 'Your sign-in does not allow that name.';
    case 'target_busy':
      return 'That person is receiving too much right now; please try again in a moment.';
    case 'relay_not_allowed':
      return 'That person is not in a chat with you.';
    case 'session_not_found':
      return 'The server no longer knows this session; starting a new one.';
    case 'peer_queue_full':
      return 'That person is reconnecting and too much is waiting for them; try again when they are back.';
    default:
      return `The server refused the request${error.message ? `: ${error.message}` : '.'}`;
  }
}
