#!/usr/bin/env node
// The uniffi ↔ React Native guard: fails when something the engine's FFI exposes did not reach
// every layer of the React Native module.
//
// Source of truth: the uniffi interface as written in ../bindings/src/*.rs (the proc-macro
// items: `#[derive(uniffi::Record)]` structs, `#[derive(uniffi::Enum)]` and
// `#[derive(uniffi::Error)]` enums, `#[uniffi::export] impl` methods and the
// `#[uniffi::export(foreign)]` listener trait). The generated Kotlin and Swift are checked
// against these same sources by suite 30-bindings, so reading the Rust is enough here.
//
// For each item it checks the layers a value crosses (names converted the way each layer
// spells them: `ice_transport_policy` → `iceTransportPolicy`, variant `Failed` → `'failed'`
// in JS, `FAILED` in Kotlin, `.failed` in Swift):
//   record field       TS spec `Native<Record>` type, TS API interface, Android EngineAdapter.kt
//                      and PeerChatModule.kt, iOS EngineAdapter.swift (+ PeerChatImpl.swift and
//                      PeerChat.mm for records the app passes in, e.g. EngineConfig)
//   enum variant       TS API union type and its runtime list, Kotlin mapping, Swift mapping
//   variant field      TS spec, TS API, both Kotlin files, EngineAdapter.swift
//   error variant      TS `PEERCHAT_ERROR_CODES`, Kotlin and Swift error mappings
//   Engine method      TS spec method, TS API `PeerChatEngine` method, Kotlin adapter call and
//                      module override, Swift adapter call, PeerChatImpl func and PeerChat.mm
//   listener callback  TS spec emitter (and each argument in its payload type), TS API event,
//                      Kotlin override + `emitOn…`, Swift func + PeerChat.mm routing
// Deliberate gaps are listed in EXEMPT below, each with its reason; an exemption for something
// the FFI no longer has fails too, so the list cannot rot.
//
// Usage: node scripts/ffi-guard.js [--bindings DIR] [--rn DIR]   (exit 1 and one line per miss)
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? path.resolve(args[i + 1]) : fallback;
}
const rnDir = opt('--rn', path.resolve(__dirname, '..'));
const bindingsDir = opt('--bindings', path.resolve(rnDir, '..', 'bindings'));

// ---- names ------------------------------------------------------------------------------------
const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^[a-z]/, (c) => c.toUpperCase());
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const upperSnake = (s) => snake(s).toUpperCase();
const lowerFirst = (s) => s.replace(/^[A-Z]/, (c) => c.toLowerCase());
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Deliberate gaps: key → reason. Keys: `Type.field`, `Type.Variant`, `Type.Variant.field`,
 * `Engine.method`, `EngineListener.callback`, optionally `@layer` (`ts-spec`, `ts-api`,
 * `kotlin`, `swift`) to exempt one layer only.
 */
const EXEMPT = {
  'PeerChatError.MessageTooLarge.size': 'JS errors carry code, serverCode and the message text, which states the size',
  'PeerChatError.MessageTooLarge.max': 'JS errors carry code, serverCode and the message text, which states the limit',
  'PeerChatError.WebRtc.peer_id': 'JS errors carry code, serverCode and the message text, which names the peer',
  'PeerChatError.PeerProtocol.peer_id': 'JS errors carry code, serverCode and the message text, which names the peer',
  'PeerChatError.Timeout.operation': 'JS errors carry code, serverCode and the message text, which names the operation',
  'PeerChatError.Timeout.after_ms': 'JS errors carry code, serverCode and the message text, which states the time',
  'PeerChatError.OutboxFull.max': 'JS errors carry code, serverCode and the message text, which states the limit',
  'PeerChatError.QueueFull.capacity': 'JS errors carry code, serverCode and the message text, which states the bound',
  'PeerChatError.QueueFull.queue': 'JS errors carry code, serverCode and the message text, which names the queue',
  'PeerChatError.UnknownMessage.id': 'JS errors carry code, serverCode and the message text, which names the message',
  'PeerChatError.UnknownPeer.peer_id': 'JS errors carry code, serverCode and the message text, which names the peer',
  // Gaps left by the merge of issues 9 and 11 (session 3); to be carried through RN next:
  'Engine.cancel_room_request': 'not yet in RN: a JS caller cannot cancel a pending createRoom/joinRoom (follow-up)',
  'Engine.shutdown_now': 'not yet in RN: destroy()/shutdown() cover teardown (follow-up)',
  'EngineConfig.max_outbox_messages': 'not yet in RN: the engine default (10,000) applies (follow-up)',
  'EngineConfig.message_ttl_ms': 'not yet in RN: the engine default (300,000 ms) applies (follow-up)',
  'EngineConfig.signaling_fallback_urls': 'not yet in RN: one signaling URL only (follow-up)',  // Saved chats (issue 13 item 3, session 5): FFI, Kotlin and Swift done; RN next.
  'Conversation.Login': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Conversation.Login.own': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Conversation.Login.peer': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Conversation.Room': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Conversation.Room.code': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Engine.conversation': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Engine.delete_conversation': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Engine.history': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'Engine.safety_code': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'EngineConfig.data_dir': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'EngineListener.on_history_message': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'HistoryPage': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'HistoryPage.has_more': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'HistoryPage.messages': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredMessage': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredMessage.outgoing': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredMessage.sender_peer_id': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredMessage.stored_at_ms': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Delivered': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Failed': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Pending': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Read': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Received': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
  'StoredStatus.Sent': 'saved chats (issue 13 item 3) not yet in RN: history, delete, safety code and dataDir are in the Kotlin and Swift layers only (follow-up)',
};
/** Names a layer uses for an FFI name: `Engine.shutdown` is `destroyEngine` in the spec, … */
const ALIASES = {
  'Engine.shutdown': { 'ts-spec': 'destroyEngine', 'ts-api': 'destroy', 'kotlin-module': 'destroyEngine', 'swift-impl': 'destroyEngine', mm: 'destroyEngine' },
  'Engine.pause': { 'ts-spec': 'pauseEngine', 'kotlin-module': 'pauseEngine', 'swift-impl': 'pauseEngine', mm: 'pauseEngine' },
  'Engine.resume': { 'ts-spec': 'resumeEngine', 'kotlin-module': 'resumeEngine', 'swift-impl': 'resumeEngine', mm: 'resumeEngine' },
  'PeerChatError.*.reason': { all: 'message' },
  'PeerChatError.Server.code': { all: 'serverCode' },
};
/** The TS API interface of a record, where it is not the record's own name. */
const TS_API_NAME = { EngineConfig: 'PeerChatConfig', SignalingState: 'SignalingState' };
/** The TS API type carrying the fields of an enum's data variant. */
const TS_VARIANT_TYPE = { 'SignalingState.Reconnecting': 'ReconnectInfo' };

// ---- Rust parsing -----------------------------------------------------------------------------
function stripComments(src) {
  let out = '';
  let i = 0;
  let inStr = false;
  while (i < src.length) {
    const c = src[i];
    if (inStr) {
      out += c;
      if (c === '\\') {
        out += src[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inStr = false;
      i += 1;
    } else if (c === '"') {
      inStr = true;
      out += c;
      i += 1;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i += 1;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The text between the `{` at `open` and its matching `}`. */
function block(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === '{') depth += 1;
    else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(open + 1, i);
    }
  }
  throw new Error(`unbalanced braces at ${open}`);
}

/** Splits on `sep` at bracket depth 0. */
function splitTop(text, sep = ',') {
  const parts = [];
  let depth = 0;
  let cur = '';
  for (const c of text) {
    if ('{([<'.includes(c)) depth += 1;
    else if ('})]>'.includes(c)) depth -= 1;
    if (c === sep && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

const dropAttrs = (s) => s.replace(/#\[[^\]]*\]/g, ' ');

function parseFields(body) {
  return splitTop(dropAttrs(body)).map((f) => {
    const m = /^(?:pub(?:\([^)]*\))?\s+)?(\w+)\s*:\s*([\s\S]+)$/.exec(f);
    if (!m) throw new Error(`cannot read field "${f}"`);
    return { name: m[1], type: m[2].trim() };
  });
}

function parseBindings(dir) {
  const api = { records: [], enums: [], errors: [], objects: [], listeners: [] };
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.rs')).sort()) {
    const text = stripComments(fs.readFileSync(path.join(dir, file), 'utf8'));
    const item = /#\[derive\(([^)]*)\)\]\s*(?:#\[[^\]]*\]\s*)*pub\s+(struct|enum)\s+(\w+)[^{;]*\{/g;
    let m;
    while ((m = item.exec(text))) {
      const derives = m[1];
      const body = block(text, m.index + m[0].length - 1);
      const at = `bindings/src/${file}`;
      if (m[2] === 'struct' && /uniffi::Record/.test(derives)) {
        api.records.push({ name: m[3], at, fields: parseFields(body) });
      } else if (m[2] === 'enum' && /uniffi::(Enum|Error)/.test(derives)) {
        const variants = splitTop(dropAttrs(body)).map((v) => {
          const vm = /^(\w+)\s*(\{([\s\S]*)\}|\(([\s\S]*)\))?(\s*=\s*\S+)?$/.exec(v);
          if (!vm) throw new Error(`cannot read variant "${v}" in ${m[3]}`);
          return { name: vm[1], fields: vm[3] !== undefined ? parseFields(vm[3]) : [] };
        });
        (/uniffi::Error/.test(derives) ? api.errors : api.enums).push({ name: m[3], at, variants });
      }
    }
    const impl = /#\[uniffi::export(?:\([^)]*\))?\]\s*impl\s+(\w+)\s*\{/g;
    while ((m = impl.exec(text))) {
      const body = block(text, m.index + m[0].length - 1);
      const methods = [];
      const fn = /(#\[uniffi::constructor[^\]]*\]\s*)?pub\s+(?:async\s+)?fn\s+(\w+)\s*\(([^)]*)\)/g;
      let f;
      while ((f = fn.exec(body))) if (!f[1]) methods.push({ name: f[2] });
      api.objects.push({ name: m[1], at: `bindings/src/${file}`, methods });
    }
    const trait = /#\[uniffi::export\((?:foreign|callback_interface|with_foreign)\)\]\s*pub\s+trait\s+(\w+)[^{]*\{/g;
    while ((m = trait.exec(text))) {
      const body = block(text, m.index + m[0].length - 1);
      const callbacks = [];
      const fn = /fn\s+(\w+)\s*\(\s*&self\s*,?([^)]*)\)/g;
      let f;
      while ((f = fn.exec(body))) {
        const params = splitTop(f[2]).map((p) => {
          const [n, t] = p.split(':').map((s) => s.trim());
          return { name: n, type: t };
        });
        callbacks.push({ name: f[1], params });
      }
      api.listeners.push({ name: m[1], at: `bindings/src/${file}`, callbacks });
    }
  }
  return api;
}

// ---- layer files --------------------------------------------------------------------------------
function read(rel) {
  const p = path.join(rnDir, rel);
  return fs.existsSync(p) ? stripComments(fs.readFileSync(p, 'utf8')) : null;
}
const FILES = {
  spec: 'src/NativePeerChat.ts',
  types: 'src/types.ts',
  engine: 'src/engine.ts',
  errors: 'src/errors.ts',
  ktAdapter: 'android/src/main/java/com/peerchat/EngineAdapter.kt',
  ktModule: 'android/src/main/java/com/peerchat/PeerChatModule.kt',
  swAdapter: 'ios/EngineAdapter.swift',
  swImpl: 'ios/PeerChatImpl.swift',
  mm: 'ios/PeerChat.mm',
};
const src = Object.fromEntries(Object.entries(FILES).map(([k, rel]) => [k, read(rel)]));

/** The `{ … }` body of a TS `type X = {` or `interface X {` declaration, or null. */
function tsBody(text, name) {
  const m = new RegExp(`(?:type\\s+${esc(name)}\\s*=\\s*|interface\\s+${esc(name)}(?:\\s+extends[^{]*)?\\s*)\\{`).exec(text);
  return m ? block(text, m.index + m[0].length - 1) : null;
}
const hasProp = (body, prop) => body !== null && new RegExp(`(^|[\\s;{,])(readonly\\s+)?${esc(prop)}\\??\\s*:`).test(body);
const hasWord = (text, word) => text !== null && new RegExp(`\\b${esc(word)}\\b`).test(text);

// ---- checks ---------------------------------------------------------------------------------------
const api = parseBindings(path.join(bindingsDir, 'src'));
const misses = [];
const usedExemptions = new Set();

function exempt(key, layer) {
  for (const k of [`${key}@${layer}`, key]) {
    if (k in EXEMPT) {
      usedExemptions.add(k);
      return true;
    }
  }
  return false;
}
function alias(key, layer, name) {
  const generic = key.replace(/^(\w+)\.\w+\.(\w+)$/, '$1.*.$2');
  for (const k of [key, generic]) {
    const a = ALIASES[k];
    if (a) return a[layer] ?? a.all ?? name;
  }
  return name;
}
function miss(key, jsName, layer, file, where) {
  if (exempt(key, layer)) return;
  misses.push(`${key} (${jsName}) is missing from ${file}${where ? ` ${where}` : ''}`);
}

if (api.records.length === 0 || api.objects.length === 0 || api.listeners.length === 0) {
  console.error(`ffi-guard: found no uniffi records/objects/listeners under ${bindingsDir}/src; the parser is out of date`);
  process.exit(2);
}
for (const [k, rel] of Object.entries(FILES)) {
  if (src[k] === null) misses.push(`file ${rel} is missing (the guard reads it)`);
}

const recordNames = new Set(api.records.map((r) => r.name));
const enumNames = new Set(api.enums.map((e) => e.name));
const errorNames = new Set(api.errors.map((e) => e.name));
const typeMentions = (type, names) => [...names].filter((n) => new RegExp(`\\b${n}\\b`).test(type));

// Records the app passes in (reachable from Engine's constructor and method parameters).
const inputRecords = new Set();
{
  const queue = [];
  for (const file of fs.readdirSync(path.join(bindingsDir, 'src')).filter((f) => f.endsWith('.rs'))) {
    const text = stripComments(fs.readFileSync(path.join(bindingsDir, 'src', file), 'utf8'));
    const impl = /#\[uniffi::export(?:\([^)]*\))?\]\s*impl\s+\w+\s*\{/g;
    let m;
    while ((m = impl.exec(text))) {
      const body = block(text, m.index + m[0].length - 1);
      for (const f of body.matchAll(/pub\s+(?:async\s+)?fn\s+\w+\s*\(([^)]*)\)/g)) {
        queue.push(...typeMentions(f[1], new Set([...recordNames, ...enumNames])));
      }
    }
  }
  while (queue.length) {
    const n = queue.pop();
    if (inputRecords.has(n)) continue;
    inputRecords.add(n);
    const r = api.records.find((x) => x.name === n);
    if (r) for (const f of r.fields) queue.push(...typeMentions(f.type, new Set([...recordNames, ...enumNames])));
  }
}

// Records.
for (const rec of api.records) {
  const specType = `Native${rec.name}`;
  const apiType = TS_API_NAME[rec.name] ?? rec.name;
  const specBody = tsBody(src.spec, specType);
  const apiBody = tsBody(src.types, apiType);
  if (specBody === null) miss(rec.name, specType, 'ts-spec', FILES.spec, `(no type ${specType})`);
  if (apiBody === null) miss(rec.name, apiType, 'ts-api', FILES.types, `(no interface ${apiType})`);
  const input = inputRecords.has(rec.name);
  for (const f of rec.fields) {
    const key = `${rec.name}.${f.name}`;
    const js = camel(f.name);
    if (specBody !== null && !hasProp(specBody, alias(key, 'ts-spec', js))) miss(key, js, 'ts-spec', FILES.spec, `(type ${specType})`);
    if (apiBody !== null && !hasProp(apiBody, alias(key, 'ts-api', js))) miss(key, js, 'ts-api', FILES.types, `(interface ${apiType})`);
    for (const [file, layer] of [['ktAdapter', 'kotlin'], ['ktModule', 'kotlin']]) {
      if (!hasWord(src[file], js)) miss(key, js, layer, FILES[file]);
    }
    const swiftFiles = input ? ['swAdapter', 'swImpl', 'mm'] : ['swAdapter'];
    for (const file of swiftFiles) if (!hasWord(src[file], js)) miss(key, js, 'swift', FILES[file]);
  }
}

/** Bodies of Swift/Kotlin functions whose signature names `type` (as parameter or result). */
function functionsNaming(text, type) {
  const bodies = [];
  const re = new RegExp(`(?:func|fun)\\s+[^({]*\\([^)]*\\)[^{=]*\\{`, 'g');
  let m;
  while ((m = re.exec(text))) {
    if (!new RegExp(`\\b(Ffi)?${esc(type)}\\b`).test(m[0])) continue;
    bodies.push(block(text, m.index + m[0].length - 1));
  }
  return bodies;
}

// Enums (values crossing as snake_case strings in JS).
for (const en of api.enums) {
  const apiType = TS_API_NAME[en.name] ?? en.name;
  const union = new RegExp(`export\\s+type\\s+${esc(apiType)}\\s*=([^;]*);`).exec(src.types ?? '');
  const list = new RegExp(`:\\s*readonly\\s+${esc(apiType)}\\[\\]\\s*=\\s*\\[([^\\]]*)\\]`).exec(src.types ?? '');
  // Kotlin: explicit `Type.VARIANT`, or the generic `Enum<*>.wire()` applied to a value of the type.
  const ktGeneric =
    src.ktAdapter !== null &&
    /fun\s+Enum<\*>\.wire\(\)/.test(src.ktAdapter) &&
    [...src.ktAdapter.matchAll(new RegExp(`(\\w+)\\s*:\\s*(?:Ffi)?${esc(en.name)}\\b`, 'g'))].some((p) =>
      new RegExp(`\\b${esc(p[1])}\\.wire\\(\\)`).test(src.ktAdapter),
    );
  const swiftBodies = functionsNaming(src.swAdapter ?? '', en.name).join('\n');
  for (const v of en.variants) {
    const key = `${en.name}.${v.name}`;
    const js = snake(v.name);
    if (!union || !new RegExp(`'${esc(js)}'`).test(union[1])) miss(key, `'${js}'`, 'ts-api', FILES.types, `(type ${apiType})`);
    if (!list || !new RegExp(`'${esc(js)}'`).test(list[1])) miss(key, `'${js}'`, 'ts-api', FILES.types, `(the readonly ${apiType}[] list)`);
    const ktNamed = new RegExp(`\\b(Ffi)?${esc(en.name)}\\.(${upperSnake(v.name)}|${v.name})\\b`).test(src.ktAdapter ?? '');
    if (!ktNamed && !(ktGeneric && v.fields.length === 0)) miss(key, `${en.name}.${upperSnake(v.name)}`, 'kotlin', FILES.ktAdapter);
    if (!new RegExp(`\\.${esc(lowerFirst(v.name))}\\b`).test(swiftBodies)) {
      miss(key, `.${lowerFirst(v.name)}`, 'swift', FILES.swAdapter, `(a func taking or returning ${en.name})`);
    }
    for (const f of v.fields) {
      const fkey = `${key}.${f.name}`;
      const fjs = camel(f.name);
      if (!new RegExp(`\\b${esc(fjs)}\\??\\s*:`).test(src.spec ?? '')) miss(fkey, fjs, 'ts-spec', FILES.spec);
      const tsType = TS_VARIANT_TYPE[key];
      const body = tsType ? tsBody(src.types, tsType) : null;
      if (!hasProp(body, fjs)) miss(fkey, fjs, 'ts-api', FILES.types, tsType ? `(interface ${tsType})` : '(no TS type named for this variant)');
      for (const file of ['ktAdapter', 'ktModule', 'swAdapter']) {
        if (!hasWord(src[file], fjs)) miss(fkey, fjs, file.startsWith('kt') ? 'kotlin' : 'swift', FILES[file]);
      }
    }
  }
}

// Errors: one JS code per variant (snake_case); fields by exemption or alias.
for (const er of api.errors) {
  const codes = /PEERCHAT_ERROR_CODES[^=]*=\s*\[([^\]]*)\]/.exec(src.errors ?? '');
  for (const v of er.variants) {
    const key = `${er.name}.${v.name}`;
    const js = snake(v.name);
    if (!codes || !new RegExp(`'${esc(js)}'`).test(codes[1])) miss(key, `'${js}'`, 'ts-api', FILES.errors, '(PEERCHAT_ERROR_CODES)');
    if (!new RegExp(`PeerChatException\\.${esc(v.name)}\\b`).test(src.ktAdapter ?? '')) miss(key, `PeerChatException.${v.name}`, 'kotlin', FILES.ktAdapter);
    if (!new RegExp(`\\.${esc(v.name)}\\b`).test(src.swAdapter ?? '')) miss(key, `.${v.name}`, 'swift', FILES.swAdapter);
    for (const f of v.fields) {
      const fkey = `${key}.${f.name}`;
      const fjs = alias(fkey, 'ts-api', camel(f.name));
      if (!hasWord(src.errors, fjs)) miss(fkey, fjs, 'ts-api', FILES.errors);
      if (!hasWord(src.ktAdapter, camel(f.name))) miss(fkey, camel(f.name), 'kotlin', FILES.ktAdapter);
      if (!hasWord(src.swAdapter, camel(f.name))) miss(fkey, camel(f.name), 'swift', FILES.swAdapter);
    }
  }
}

// Object methods (the constructor is `createEngine`, checked by the records it takes).
for (const obj of api.objects) {
  const engineApi = tsBody(src.engine, 'PeerChatEngine');
  for (const m of obj.methods) {
    const key = `${obj.name}.${m.name}`;
    const js = camel(m.name);
    const specName = alias(key, 'ts-spec', js);
    if (!new RegExp(`\\b${esc(specName)}\\s*\\(\\s*engineId\\b`).test(src.spec ?? '')) miss(key, specName, 'ts-spec', FILES.spec, '(Spec method)');
    const apiName = alias(key, 'ts-api', js);
    if (!new RegExp(`\\b${esc(apiName)}\\s*\\(`).test(engineApi ?? '')) miss(key, apiName, 'ts-api', FILES.engine, '(interface PeerChatEngine)');
    if (!new RegExp(`\\bengine\\.${esc(js)}\\s*\\(`).test(src.ktAdapter ?? '')) miss(key, `engine.${js}()`, 'kotlin', FILES.ktAdapter);
    const modName = alias(key, 'kotlin-module', js);
    if (!new RegExp(`override\\s+fun\\s+${esc(modName)}\\s*\\(`).test(src.ktModule ?? '')) miss(key, modName, 'kotlin', FILES.ktModule);
    if (!new RegExp(`\\bengine\\.${esc(js)}\\s*\\(`).test(src.swAdapter ?? '')) miss(key, `engine.${js}()`, 'swift', FILES.swAdapter);
    const implName = alias(key, 'swift-impl', js);
    if (!new RegExp(`func\\s+${esc(implName)}\\s*\\(`).test(src.swImpl ?? '')) miss(key, implName, 'swift', FILES.swImpl);
    const mmName = alias(key, 'mm', js);
    if (!new RegExp(`-\\s*\\([^)]*\\)\\s*${esc(mmName)}\\s*:`).test(src.mm ?? '')) miss(key, mmName, 'swift', FILES.mm);
  }
}

// Listener callbacks → events.
for (const l of api.listeners) {
  const events = tsBody(src.engine, 'PeerChatEvents');
  for (const cb of l.callbacks) {
    const key = `${l.name}.${cb.name}`;
    const emitter = camel(cb.name); // onPeerState
    const event = lowerFirst(emitter.replace(/^on/, '')); // peerState
    const em = new RegExp(`readonly\\s+${esc(emitter)}\\s*:\\s*CodegenTypes\\.EventEmitter<(\\w+)>`).exec(src.spec ?? '');
    if (!em) miss(key, emitter, 'ts-spec', FILES.spec, '(EventEmitter)');
    else {
      const payload = tsBody(src.spec, em[1]);
      for (const p of cb.params) {
        if (typeMentions(p.type, errorNames).length) continue; // errors: checked above
        const pjs = camel(p.name);
        if (!hasProp(payload, pjs)) miss(`${key}.${p.name}`, pjs, 'ts-spec', FILES.spec, `(type ${em[1]})`);
      }
    }
    if (!hasProp(events, event)) miss(key, event, 'ts-api', FILES.engine, '(interface PeerChatEvents)');
    if (!new RegExp(`override\\s+fun\\s+${esc(emitter)}\\s*\\(`).test(src.ktAdapter ?? '')) miss(key, emitter, 'kotlin', FILES.ktAdapter);
    if (!new RegExp(`emit${esc(pascal(cb.name))}\\s*\\(`).test(src.ktModule ?? '')) miss(key, `emit${pascal(cb.name)}`, 'kotlin', FILES.ktModule);
    if (!new RegExp(`func\\s+${esc(emitter)}\\s*\\(`).test(src.swAdapter ?? '')) miss(key, emitter, 'swift', FILES.swAdapter);
    if (!new RegExp(`emit${esc(pascal(cb.name))}\\s*:`).test(src.mm ?? '')) miss(key, `emit${pascal(cb.name)}`, 'swift', FILES.mm);
  }
}

for (const k of Object.keys(EXEMPT)) {
  if (!usedExemptions.has(k)) misses.push(`exemption "${k}" names nothing the FFI still has; remove it from EXEMPT in scripts/ffi-guard.js`);
}

const counted =
  `${api.records.length} records, ${api.enums.length} enums, ${api.errors.length} error enums, ` +
  `${api.objects.reduce((n, o) => n + o.methods.length, 0)} methods, ${api.listeners.reduce((n, l) => n + l.callbacks.length, 0)} callbacks`;
if (misses.length > 0) {
  console.error(`ffi-guard: ${misses.length} gap(s) between the uniffi interface (${counted}) and the React Native layers:`);
  for (const m of misses) console.error(`  MISSING ${m}`);
  console.error('Carry the item through that layer, or add it to EXEMPT in react-native/scripts/ffi-guard.js with the reason.');
  process.exit(1);
}
console.log(`ffi-guard: ok — ${counted} reach the TS spec, the TS API, Android (Kotlin) and iOS (Swift, Obj-C++)`);
