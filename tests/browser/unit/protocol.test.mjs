import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NAME_CHARS, describeServerError, normalizeRoomCode, validateName } from '../../../web/static/protocol.js';

test('room codes normalize like core/src/protocol.rs', () => {
  assert.deepEqual(normalizeRoomCode('abc def ghj'), { ok: true, code: 'ABC-DEF-GHJ' });
  assert.deepEqual(normalizeRoomCode(' ABC-DEF-GHJ '), { ok: true, code: 'ABC-DEF-GHJ' });
  const zero = normalizeRoomCode('ABC-DEF-GH0');
  assert.equal(zero.ok, false);
  assert.match(zero.error, /“0” cannot appear/);
  const short = normalizeRoomCode('ABCD');
  assert.equal(short.ok, false);
  assert.match(short.error, /9 characters; this one has 4/);
});

test('names are trimmed and limited to MAX_NAME_CHARS', () => {
  assert.deepEqual(validateName('  Ada '), { ok: true, name: 'Ada' });
  assert.equal(validateName('   ').ok, false);
  assert.equal(validateName('x'.repeat(MAX_NAME_CHARS)).ok, true);
  assert.equal(validateName('x'.repeat(MAX_NAME_CHARS + 1)).ok, false);
  assert.equal(validateName('😀'.repeat(MAX_NAME_CHARS)).ok, true, 'counted in scalar values, not UTF-16 units');
  assert.equal(validateName('a\u0007b').ok, false);
});

test('server refusals read as sentences', () => {
  assert.equal(describeServerError({ code: 'room_full', message: 'x' }, { code: 'ABC-DEF-GHJ' }),
    'The room ABC-DEF-GHJ is full. Ask for a new code or create your own room.');
  assert.equal(describeServerError({ code: 'room_not_found', message: 'x' }, { code: 'ABC-DEF-GHJ' }),
    'No room has the code ABC-DEF-GHJ. Check the code, or ask for a new one.');
  assert.equal(describeServerError({ code: 'login_taken', message: 'x' }, { login: 'ada' }),
    'The name “ada” is already taken. Please choose another.');
  assert.match(describeServerError({ code: 'something_new', message: 'why' }), /refused the request: why/);
});
