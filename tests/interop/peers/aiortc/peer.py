"""A peerchat client on aiortc 1.16 (aioice 0.13), written from docs/protocol.md alone (no
peerchat code): the signaling protocol over a WebSocket (`websockets`) and the data-channel chat
protocol.

aiortc does not trickle: its SDP carries all its candidates once gathering is done, which the
protocol allows (it still sends the end-of-candidates `ice_candidate`). aioice deliberately
skips 127.0.0.1 when it gathers host addresses, so in a namespace with only loopback it would
gather nothing: its host-address lookup is replaced to answer 127.0.0.1 (see field notes).

Driven by the interop harness with JSON lines, exactly as tests/interop/peers/js/stranger.js:
commands on stdin, events on stdout.
"""

import argparse
import asyncio
import json
import sys
import time
import uuid

import aioice.ice
from aiortc import RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
import websockets

MAX_MESSAGE_BYTES = 16384
MAX_FRAME_BYTES = 65536

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Peer:
    def __init__(self, name):
        self.pc = RTCPeerConnection()
        self.dc = None
        self.name = name
        self.early = []
        self.remote = False
        self.seq = 0
        self.seen = set()


class Stranger:
    def __init__(self, ws, name, send_hello, hello_name):
        self.ws = ws
        self.name = name
        self.send_hello = send_hello
        self.hello_name = hello_name
        self.peers = {}

    async def signal(self, msg):
        await self.ws.send(json.dumps(msg))

    def new_peer(self, peer_id, name, offerer):
        old = self.peers.pop(peer_id, None)
        if old:
            asyncio.ensure_future(old.pc.close())
        p = Peer(name)
        self.peers[peer_id] = p
        if offerer:
            self.attach(peer_id, p, p.pc.createDataChannel("peerchat", ordered=True))
        else:

            @p.pc.on("datachannel")
            def on_datachannel(channel):
                if channel.label == "peerchat" and p.dc is None:
                    self.attach(peer_id, p, channel)
                    # The channel is open when it is announced.
                    self.on_open(peer_id, p)

        return p

    def attach(self, peer_id, p, dc):
        p.dc = dc

        @dc.on("open")
        def on_open():
            self.on_open(peer_id, p)

        @dc.on("message")
        def on_message(data):
            self.on_frame(peer_id, p, data)

    def on_open(self, peer_id, p):
        if self.send_hello:
            p.dc.send(json.dumps({"type": "hello", "name": self.hello_name, "version": 1}))
        emit({"event": "open", "peer_id": peer_id, "name": p.name})

    def on_frame(self, peer_id, p, data):
        def refuse(reason):
            emit({"event": "protocol_error", "peer_id": peer_id, "reason": reason})

        if not isinstance(data, str):
            return refuse("binary message")
        if len(data.encode()) > MAX_FRAME_BYTES:
            return refuse("frame too large")
        try:
            f = json.loads(data)
        except ValueError:
            return refuse("not JSON")
        if not isinstance(f, dict) or not isinstance(f.get("type"), str):
            return refuse("no type")
        if f["type"] == "message":
            if not all(isinstance(f.get(k), t) for k, t in
                       (("id", str), ("seq", int), ("sent_at_ms", int), ("text", str))):
                return refuse("malformed message")
            size = len(f["text"].encode())
            if size == 0 or size > MAX_MESSAGE_BYTES:
                return refuse(f"text of {size} bytes")
            p.dc.send(json.dumps({"type": "ack", "id": f["id"]}))
            if f["id"] in p.seen:
                return
            p.seen.add(f["id"])
            emit({"event": "message", "peer_id": peer_id, "name": p.name, "id": f["id"],
                  "seq": f["seq"], "text": f["text"]})
        elif f["type"] == "ack":
            if not isinstance(f.get("id"), str):
                return refuse("malformed ack")
            emit({"event": "delivered", "peer_id": peer_id, "id": f["id"]})
        # hello: informational (the shown name is the server's); unknown types: ignored

    async def add_candidate(self, p, c):
        text = c.get("candidate", "")
        if not text:
            return  # end of candidates
        # docs/protocol.md: sdp_mid names the sender's first m-section (its a=mid:).
        mids = [line[6:].strip() for line in p.pc.remoteDescription.sdp.splitlines()
                if line.startswith("a=mid:")]
        if "sdp_mid" in c and c["sdp_mid"] != (mids[0] if mids else None):
            emit({"event": "candidate_refused", "candidate": c,
                  "reason": f"sdp_mid {c['sdp_mid']!r} is not the a=mid {mids[:1]}"})
        candidate = candidate_from_sdp(text.removeprefix("a=").removeprefix("candidate:"))
        candidate.sdpMid = c.get("sdp_mid")
        candidate.sdpMLineIndex = c.get("sdp_m_line_index")
        if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
            candidate.sdpMLineIndex = 0
        await p.pc.addIceCandidate(candidate)

    async def set_remote(self, p, sdp, kind):
        await p.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
        p.remote = True
        early, p.early = p.early, []
        for c in early:
            await self.add_candidate(p, c)

    async def on_signal(self, m):
        t = m.get("type")
        if t == "welcome":
            emit({"event": "ready", "peer_id": m["peer_id"]})
        elif t in ("room_created", "room_joined"):
            emit({"event": "room", "code": m["code"]})
            for member in m.get("members", []):
                p = self.new_peer(member["peer_id"], member["name"], True)
                await p.pc.setLocalDescription(await p.pc.createOffer())
                await self.signal({"type": "offer", "to": member["peer_id"],
                                   "sdp": p.pc.localDescription.sdp})
                await self.signal({"type": "ice_candidate", "to": member["peer_id"],
                                   "candidate": {"candidate": ""}})
        elif t == "offer":
            p = self.new_peer(m["from"], m["from_name"], False)
            await self.set_remote(p, m["sdp"], "offer")
            await p.pc.setLocalDescription(await p.pc.createAnswer())
            await self.signal({"type": "answer", "to": m["from"], "sdp": p.pc.localDescription.sdp})
            await self.signal({"type": "ice_candidate", "to": m["from"],
                               "candidate": {"candidate": ""}})
        elif t == "answer":
            p = self.peers.get(m["from"])
            if p:
                await self.set_remote(p, m["sdp"], "answer")
        elif t == "ice_candidate":
            p = self.peers.get(m["from"])
            if p:
                if p.remote:
                    await self.add_candidate(p, m["candidate"])
                else:
                    p.early.append(m["candidate"])
        elif t == "peer_left":
            p = self.peers.pop(m["peer_id"], None)
            if p:
                await p.pc.close()
            emit({"event": "peer_left", "peer_id": m["peer_id"], "reason": m["reason"]})
        elif t == "room_left":
            emit({"event": "left"})
        elif t == "error":
            emit({"event": "error", "code": m["code"], "message": m["message"]})

    async def command(self, c):
        cmd = c.get("cmd")
        open_peers = [(i, p) for i, p in self.peers.items()
                      if p.dc is not None and p.dc.readyState == "open"]
        if cmd == "create":
            await self.signal({"type": "create_room", "name": self.name})
        elif cmd == "join":
            await self.signal({"type": "join_room", "code": c["code"], "name": self.name})
        elif cmd == "send":
            for peer_id, p in open_peers:
                mid = str(uuid.uuid4())
                p.seq += 1
                p.dc.send(json.dumps({"type": "message", "id": mid, "seq": p.seq,
                                      "sent_at_ms": int(time.time() * 1000), "text": c["text"]}))
                emit({"event": "sent", "id": mid, "to": peer_id})
        elif cmd == "raw":
            for _, p in open_peers:
                p.dc.send(c["text"])
        elif cmd == "binary":
            for _, p in open_peers:
                p.dc.send(c["text"].encode())
        elif cmd == "leave":
            await self.signal({"type": "leave_room"})
            for p in list(self.peers.values()):
                await p.pc.close()
            self.peers.clear()
        else:
            emit({"event": "error", "code": "bad_command", "message": json.dumps(c)})


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--no-hello", action="store_true")
    ap.add_argument("--hello-name")
    args = ap.parse_args()

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async with websockets.connect(args.url, max_size=1 << 17) as ws:
        s = Stranger(ws, args.name, not args.no_hello, args.hello_name or args.name)

        async def read_signals():
            try:
                async for text in ws:
                    try:
                        await s.on_signal(json.loads(text))
                    except Exception as err:  # report, keep going
                        emit({"event": "error", "code": "stranger", "message": repr(err)})
            finally:
                emit({"event": "signaling_closed"})

        reader = asyncio.ensure_future(read_signals())
        while line := await stdin.readline():
            if line.strip():
                await s.command(json.loads(line))
        reader.cancel()
        for p in s.peers.values():
            await p.pc.close()


if __name__ == "__main__":
    asyncio.run(main())
