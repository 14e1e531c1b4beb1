// Chromium ↔ Chromium through the peerchat signaling server (which also serves the page).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCandidateMode } from '../support/candidates.mjs';
import { NET_MODE } from '../support/env.mjs';
import { serverAndPages } from '../support/fixture.mjs';

const ROOM_CODE = /^[2-9A-HJKMNP-TV-Z]{3}-[2-9A-HJKMNP-TV-Z]{3}-[2-9A-HJKMNP-TV-Z]{3}$/;

describe(`browser ↔ browser (${NET_MODE})`, () => {
  const fixture = serverAndPages(`b2b-${NET_MODE}`);
  const open = fixture.open;

  test('create a room, join by code, chat both ways with delivered marks, leave, start again', async (t) => {
    const ada = await open('ada');
    const bob = await open('bob');
    await ada.setName('Ada');
    if (NET_MODE === 'loopback') await ada.screenshot('home');

    const code = await ada.createRoom('Ada');
    assert.match(code, ROOM_CODE);
    assert.equal(await ada.byId('peer-list').textContent(), 'Waiting for someone to join…');
    if (NET_MODE === 'loopback') await ada.screenshot('room-created');

    // Typed the lazy way: lower case, no dashes.
    await bob.joinRoom('Bob', code.replaceAll('-', '').toLowerCase());
    assert.equal((await bob.byId('room-code').textContent()).trim(), code);
    await ada.waitForNotice('Bob joined.');
    await ada.waitConnected('Bob');
    await bob.waitConnected('Ada');

    const fromAda = ['Hello Bob!', 'How are you?', 'Ünïcödé ✓ 😀'];
    const fromBob = ['Hi Ada', 'Fine, thanks'];
    for (const t of fromAda) await ada.send(t);
    for (const t of fromAda) await bob.waitForMessage(t);
    for (const t of fromBob) await bob.send(t);
    for (const t of fromBob) await ada.waitForMessage(t);
    for (const t of fromAda) await ada.waitDelivered(t);
    for (const t of fromBob) await bob.waitDelivered(t);

    const adaLog = await ada.messages();
    assert.deepEqual(adaLog.map((m) => [m.mine, m.text]), [
      ...fromAda.map((t) => [true, t]), ...fromBob.map((t) => [false, t]),
    ]);
    assert.ok(adaLog.filter((m) => m.mine).every((m) => m.status === '✓ Delivered' && m.sender === 'Ada (you)'));
    assert.ok(adaLog.filter((m) => !m.mine).every((m) => m.sender === 'Bob' && m.status === null));
    assert.ok(adaLog.every((m) => /^\d{2}:\d{2}/.test(m.time)), JSON.stringify(adaLog));
    const bobLog = await bob.messages();
    assert.deepEqual(bobLog.map((m) => [m.mine, m.sender, m.text]), [
      ...fromAda.map((t) => [false, 'Ada', t]), ...fromBob.map((t) => [true, 'Bob (you)', t]),
    ]);
    if (NET_MODE === 'loopback') {
      await ada.screenshot('chat-ada');
      await bob.screenshot('chat-bob');
    }
    const adaLink = await assertCandidateMode(ada);
    await assertCandidateMode(bob);
    t.diagnostic(`ada's first local candidate: ${adaLink.localCandidates[0]}`);
    t.diagnostic(`ada's selected pair: ${JSON.stringify(adaLink.selectedPair)}`);

    await bob.leave();
    await ada.waitForNotice('Bob left.');
    assert.equal(await ada.byId('peer-list').textContent(), 'Waiting for someone to join…');
    // A message with nobody connected is refused, not silently lost.
    await ada.send('anyone?');
    assert.match(await ada.errorText(), /Nobody is connected/);

    // Start again: Bob creates a new room and Ada, leaving hers, joins it.
    const code2 = await bob.createRoom('Bob');
    assert.notEqual(code2, code);
    await ada.leave();
    await ada.joinRoom('Ada', code2);
    await bob.waitConnected('Ada');
    await ada.send('round two');
    await bob.waitForMessage('round two');
    await ada.waitDelivered('round two');
  });

  test('server refusals are shown in words: unknown code, full room, bad code, name taken', async () => {
    const [a, b, c] = [await open('a'), await open('b'), await open('c')];

    await a.typeCodeAndJoin('Ann', 'ZZZ-ZZZ-ZZZ');
    assert.equal(await a.errorText(), 'No room has the code ZZZ-ZZZ-ZZZ. Check the code, or ask for a new one.');
    assert.equal(await a.byId('home-view').isVisible(), true);

    await a.typeCodeAndJoin('Ann', 'ABC-DEF');
    assert.equal(await a.errorText(), 'A room code has 9 characters; this one has 6.');

    const code = await a.createRoom('Ann');
    await b.joinRoom('Ben', code);
    await c.typeCodeAndJoin('Cy', code);
    assert.equal(await c.errorText(), `The room ${code} is full. Ask for a new code or create your own room.`);
    if (NET_MODE === 'loopback') await c.screenshot('error-room-full');

    await b.waitConnected('Ann');
    // Over 16384 UTF-8 bytes: refused in the page, nothing sent.
    await b.send('é'.repeat(8193));
    assert.equal(await b.errorText(), 'Message too long: 16386 bytes; the limit is 16384 bytes. It was not sent.');
    await b.send('x'.repeat(16384));
    await a.waitForMessage('x'.repeat(16384));
    await b.waitDelivered('x'.repeat(16384));
    assert.equal((await a.messages()).length, 1, 'only the message within the limit arrived');

    await c.logIn('Cy');
    await c.byId('login-name').waitFor();
    await a.leave();
    await a.logIn('cy');
    assert.equal(await a.errorText(), 'The name “cy” is already taken. Please choose another.');
  });

  test('log in with unique names, connect by name, chat, disconnect, connect again, log out', async () => {
    const eve = await open('eve');
    const fay = await open('fay');
    await eve.logIn('eve');
    await fay.logIn('fay');
    assert.equal(await eve.byId('login-name').textContent(), 'eve');
    await fay.byId('login-name').waitFor();

    await eve.connectTo('nobody');
    assert.equal(await eve.errorText(), 'Nobody called “nobody” is logged in right now.');
    await eve.byId('home-view').waitFor();

    await eve.connectTo('fay');
    assert.equal(await eve.byId('chat-title').textContent(), 'Chat with fay');
    await fay.byId('chat-view').waitFor();
    assert.equal(await fay.byId('chat-title').textContent(), 'Chat with eve');
    await eve.waitConnected('fay');
    await fay.waitConnected('eve');
    await eve.send('hi fay');
    await fay.waitForMessage('hi fay');
    await fay.send('hi eve');
    await eve.waitForMessage('hi eve');
    await eve.waitDelivered('hi fay');
    await fay.waitDelivered('hi eve');
    if (NET_MODE === 'loopback') await fay.screenshot('login-chat');
    await assertCandidateMode(eve);

    await fay.leave();
    await eve.waitForNotice('fay left.');
    await eve.waitForNotice('This chat has ended.');
    assert.equal(await eve.byId('message-input').isDisabled(), true);
    await eve.leave();

    // Again, the other way round.
    await fay.connectTo('eve');
    await eve.waitConnected('fay');
    await fay.waitConnected('eve');
    await eve.send('again');
    await fay.waitForMessage('again');
    await eve.waitDelivered('again');
    await eve.leave();
    await fay.waitForNotice('eve left.');
    await fay.leave();

    await eve.byId('logout').click();
    await eve.byId('login').waitFor();
    assert.equal(await eve.byId('logged-in').isVisible(), false);
    await fay.connectTo('eve');
    assert.equal(await fay.errorText(), 'Nobody called “eve” is logged in right now.');
  });
});
