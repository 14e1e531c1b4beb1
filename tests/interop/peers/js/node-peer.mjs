// The stranger peer on libdatachannel 0.24 (npm node-datachannel 0.33.4, its W3C polyfill)
// with the `ws` WebSocket client. Host candidates on 127.0.0.1 only (`bindAddress`), no ICE
// servers: the interop tests run in a namespace with nothing but loopback.
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import nodeDataChannel from 'node-datachannel';
import WebSocket from 'ws';
import { startStranger } from './stranger.js';
import { commands, emit, options } from './lines.js';

const o = options();
const command = await startStranger({
  RTCPeerConnection,
  WebSocket,
  url: o.url,
  name: o.name,
  emit,
  rtcConfig: { iceServers: [], bindAddress: '127.0.0.1' },
  sendHello: !o['no-hello'],
  helloName: o['hello-name'] ?? o.name,
  omitText: Boolean(o['omit-text']),
});
commands(command, () => {
  nodeDataChannel.cleanup();
  process.exit(0);
});
