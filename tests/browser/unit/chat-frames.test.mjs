import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, decodeFrame, encodeAck, encodeHello, encodeMessage, newMessageId,
  utf8Bytes, validateMessageText,
} from '../../../web/static/chat-frames.js';

test('frames encode exactly as the engine expects', () => {
  assert.equal(encodeHello('Ada'), '{"type":"hello","name":"Ada","version":1}');
  assert.equal(
    encodeMessage({ id: 'x', seq: 1, sentAtMs: 1700000000000, text: 'hi "you"' }),
    '{"type":"message","id":"x","seq":1,"sent_at_ms":1700000000000,"text":"hi \\"you\\""}',
  );
  assert.equal(encodeAck('x'), '{"type":"ack","id":"x"}');
});

test('frames decode, and unknown types are ignored', () => {
  assert.deepEqual(decodeFrame('{"type":"message","id":"a","seq":3,"sent_at_ms":5,"text":"t","extra":1}'),
    { kind: 'message', id: 'a', seq: 3, sentAtMs: 5, text: 't' });
  assert.deepEqual(decodeFrame('{"type":"ack","id":"a"}'), { kind: 'ack', id: 'a' });
  assert.deepEqual(decodeFrame('{"type":"hello","name":"Bo","version":1}'), { kind: 'hello', name: 'Bo', version: 1 });
  assert.equal(decodeFrame('{"type":"typing"}').kind, 'ignored');
});

test('malformed frames are refused, not thrown', () => {
  for (const bad of ['nope', '[]', 'null', '{"id":"a"}', '{"type":"message","id":"a","seq":0,"sent_at_ms":1,"text":""}',
    '{"type":"message","id":"a","seq":"1","sent_at_ms":1,"text":""}', '{"type":"ack"}', new ArrayBuffer(2)]) {
    assert.equal(decodeFrame(bad).kind, 'invalid', String(bad));
  }
});

test('message text limit is MAX_MESSAGE_BYTES UTF-8 bytes, on send and on receive', () => {
  assert.equal(MAX_MESSAGE_BYTES, 16384);
  assert.equal(validateMessageText('a'.repeat(MAX_MESSAGE_BYTES)).ok, true);
  const over = validateMessageText('a'.repeat(MAX_MESSAGE_BYTES + 1));
  assert.equal(over.ok, false);
  assert.match(over.error, /16385 bytes; the limit is 16384 bytes/);
  // 'é' is 2 bytes: 8193 of them are 16386 bytes although only 8193 characters.
  assert.equal(utf8Bytes('é'.repeat(8193)), 16386);
  assert.equal(validateMessageText('é'.repeat(8193)).ok, false);
  assert.equal(validateMessageText('   ').ok, false);
  const big = encodeMessage({ id: 'a', seq: 1, sentAtMs: 1, text: 'a'.repeat(MAX_MESSAGE_BYTES + 1) });
  assert.equal(decodeFrame(big).kind, 'invalid');
  // An empty text is refused on receive too (docs/protocol.md: 1 to 16,384 bytes).
  assert.deepEqual(decodeFrame('{"type":"message","id":"a","seq":1,"sent_at_ms":1,"text":""}'),
    { kind: 'invalid', reason: 'empty message' });
  assert.equal(decodeFrame('{"type":"message","id":"a","seq":1,"sent_at_ms":1,"text":" "}').kind, 'message');
});

test('a text within the byte limit that JSON escaping blows past MAX_FRAME_BYTES is refused', () => {
  assert.equal(MAX_FRAME_BYTES, 65536);
  const controls = '\u0001'.repeat(MAX_MESSAGE_BYTES); // 16384 bytes, 6 × that once escaped
  const check = validateMessageText(controls);
  assert.equal(check.ok, false);
  assert.match(check.error, /once encoded: \d+ bytes; the limit is 65536 bytes/);
});

test('message ids are UUID v7 carrying the time', () => {
  const id = newMessageId(0x0123456789ab);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(id.startsWith('01234567-89ab-7'));
  assert.notEqual(newMessageId(), newMessageId());
});
