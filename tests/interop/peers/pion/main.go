// A peerchat client on Pion WebRTC v4, written from docs/protocol.md alone (no peerchat
// code): the signaling protocol over a WebSocket (gorilla/websocket) and the data-channel chat
// protocol. Settings for a namespace with only loopback (see field notes): loopback host
// candidates enabled, interfaces limited to `lo`, mDNS off, UDP over IPv4 only.
//
// Driven by the interop harness with JSON lines, exactly as tests/interop/peers/js/stranger.js:
// commands on stdin, events on stdout.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

const (
	maxMessageBytes = 16384
	maxFrameBytes   = 65536
)

type candidate struct {
	Candidate        string  `json:"candidate"`
	SdpMid           *string `json:"sdp_mid,omitempty"`
	SdpMLineIndex    *uint16 `json:"sdp_m_line_index,omitempty"`
	UsernameFragment *string `json:"username_fragment,omitempty"`
}

type member struct {
	PeerID string `json:"peer_id"`
	Name   string `json:"name"`
}

// signal is any signaling message, both directions (unused fields omitted).
type signal struct {
	Type      string     `json:"type"`
	To        string     `json:"to,omitempty"`
	From      string     `json:"from,omitempty"`
	FromName  string     `json:"from_name,omitempty"`
	Name      string     `json:"name,omitempty"`
	Code      string     `json:"code,omitempty"`
	Sdp       string     `json:"sdp,omitempty"`
	Candidate *candidate `json:"candidate,omitempty"`
	PeerID    string     `json:"peer_id,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Message   string     `json:"message,omitempty"`
	Members   []member   `json:"members,omitempty"`
}

type frame struct {
	Type     string  `json:"type"`
	Name     string  `json:"name,omitempty"`
	Version  int     `json:"version,omitempty"`
	ID       *string `json:"id,omitempty"`
	Seq      *uint64 `json:"seq,omitempty"`
	SentAtMs *uint64 `json:"sent_at_ms,omitempty"`
	Text     *string `json:"text,omitempty"`
}

type peer struct {
	pc       *webrtc.PeerConnection
	dc       *webrtc.DataChannel
	name     string
	early    []webrtc.ICECandidateInit
	remote   bool
	seq      uint64
	seen     map[string]bool
	channelM sync.Mutex
}

type stranger struct {
	mu        sync.Mutex
	ws        *websocket.Conn
	wsMu      sync.Mutex
	out       sync.Mutex
	api       *webrtc.API
	name      string
	helloName string
	sendHello bool
	omitText  bool
	peers     map[string]*peer
}

func (s *stranger) emit(event map[string]any) {
	b, _ := json.Marshal(event)
	s.out.Lock()
	defer s.out.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func (s *stranger) signal(m signal) {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if err := s.ws.WriteJSON(m); err != nil {
		s.emit(map[string]any{"event": "error", "code": "signaling", "message": err.Error()})
	}
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *stranger) newPeer(peerID, name string, offerer bool) (*peer, error) {
	if old := s.peers[peerID]; old != nil {
		old.pc.Close()
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p := &peer{pc: pc, name: name, seen: map[string]bool{}}
	s.peers[peerID] = p
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			s.signal(signal{Type: "ice_candidate", To: peerID, Candidate: &candidate{Candidate: ""}})
			return
		}
		init := c.ToJSON()
		s.signal(signal{Type: "ice_candidate", To: peerID, Candidate: &candidate{
			Candidate: init.Candidate, SdpMid: init.SDPMid, SdpMLineIndex: init.SDPMLineIndex,
			UsernameFragment: init.UsernameFragment,
		}})
	})
	if offerer {
		ordered := true
		dc, err := pc.CreateDataChannel("peerchat", &webrtc.DataChannelInit{Ordered: &ordered})
		if err != nil {
			return nil, err
		}
		s.attach(peerID, p, dc)
	} else {
		pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			if dc.Label() == "peerchat" {
				s.attach(peerID, p, dc)
			}
		})
	}
	return p, nil
}

func (s *stranger) attach(peerID string, p *peer, dc *webrtc.DataChannel) {
	p.channelM.Lock()
	p.dc = dc
	p.channelM.Unlock()
	dc.OnOpen(func() {
		if s.sendHello {
			b, _ := json.Marshal(frame{Type: "hello", Name: s.helloName, Version: 1})
			_ = dc.SendText(string(b))
		}
		s.emit(map[string]any{"event": "open", "peer_id": peerID, "name": p.name})
	})
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { s.onFrame(peerID, p, dc, msg) })
}

func (s *stranger) onFrame(peerID string, p *peer, dc *webrtc.DataChannel, msg webrtc.DataChannelMessage) {
	refuse := func(reason string) {
		s.emit(map[string]any{"event": "protocol_error", "peer_id": peerID, "reason": reason})
	}
	if !msg.IsString {
		refuse("binary message")
		return
	}
	if len(msg.Data) > maxFrameBytes || !utf8.Valid(msg.Data) {
		refuse("frame too large or not UTF-8")
		return
	}
	var f frame
	if err := json.Unmarshal(msg.Data, &f); err != nil || f.Type == "" {
		refuse("not a JSON object with a type")
		return
	}
	switch f.Type {
	case "hello": // informational: the shown name is the server's
	case "message":
		if f.ID == nil || f.Seq == nil || f.SentAtMs == nil || f.Text == nil {
			refuse("malformed message")
			return
		}
		if n := len(*f.Text); n == 0 || n > maxMessageBytes {
			refuse(fmt.Sprintf("text of %d bytes", n))
			return
		}
		ack, _ := json.Marshal(map[string]string{"type": "ack", "id": *f.ID})
		_ = dc.SendText(string(ack))
		p.channelM.Lock()
		dup := p.seen[*f.ID]
		p.seen[*f.ID] = true
		p.channelM.Unlock()
		if !dup {
			event := map[string]any{"event": "message", "peer_id": peerID, "name": p.name,
				"id": *f.ID, "seq": *f.Seq, "text": *f.Text}
			if s.omitText {
				delete(event, "text")
				event["bytes"] = len(*f.Text)
			}
			s.emit(event)
		}
	case "ack":
		if f.ID == nil {
			refuse("malformed ack")
			return
		}
		s.emit(map[string]any{"event": "delivered", "peer_id": peerID, "id": *f.ID})
	default: // unknown type: ignored
	}
}

func (s *stranger) addCandidate(p *peer, c *candidate) {
	if c.Candidate == "" {
		return // end of candidates
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SdpMid,
		SDPMLineIndex: c.SdpMLineIndex, UsernameFragment: c.UsernameFragment}
	if !p.remote {
		p.early = append(p.early, init)
		return
	}
	s.checkMid(p, c)
	if err := p.pc.AddICECandidate(init); err != nil {
		s.emit(map[string]any{"event": "candidate_refused", "reason": err.Error()})
	}
}

// checkMid reports a candidate whose sdp_mid is not the a=mid of the sender's first m-section
// (docs/protocol.md, ice_candidate).
func (s *stranger) checkMid(p *peer, c *candidate) {
	if c.SdpMid == nil {
		return
	}
	mid := ""
	if rd := p.pc.RemoteDescription(); rd != nil {
		if parsed, err := rd.Unmarshal(); err == nil && len(parsed.MediaDescriptions) > 0 {
			mid, _ = parsed.MediaDescriptions[0].Attribute("mid")
		}
	}
	if *c.SdpMid != mid {
		s.emit(map[string]any{"event": "candidate_refused",
			"reason": fmt.Sprintf("sdp_mid %q is not the a=mid %q", *c.SdpMid, mid)})
	}
}

func (s *stranger) setRemote(p *peer, desc webrtc.SessionDescription) error {
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return err
	}
	p.remote = true
	early := p.early
	p.early = nil
	for _, init := range early {
		s.checkMid(p, &candidate{Candidate: init.Candidate, SdpMid: init.SDPMid})
		if err := p.pc.AddICECandidate(init); err != nil {
			s.emit(map[string]any{"event": "candidate_refused", "reason": err.Error()})
		}
	}
	return nil
}

func (s *stranger) offerTo(m member) error {
	p, err := s.newPeer(m.PeerID, m.Name, true)
	if err != nil {
		return err
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	s.signal(signal{Type: "offer", To: m.PeerID, Sdp: offer.SDP})
	return nil
}

// onSignal handles one server message; called from the read loop only, in arrival order.
func (s *stranger) onSignal(m signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Type {
	case "welcome":
		s.emit(map[string]any{"event": "ready", "peer_id": m.PeerID})
	case "room_created":
		s.emit(map[string]any{"event": "room", "code": m.Code})
	case "room_joined":
		s.emit(map[string]any{"event": "room", "code": m.Code})
		for _, mem := range m.Members {
			if err := s.offerTo(mem); err != nil {
				return err
			}
		}
	case "offer":
		p, err := s.newPeer(m.From, m.FromName, false)
		if err != nil {
			return err
		}
		if err := s.setRemote(p, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.Sdp}); err != nil {
			return err
		}
		answer, err := p.pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		if err := p.pc.SetLocalDescription(answer); err != nil {
			return err
		}
		s.signal(signal{Type: "answer", To: m.From, Sdp: answer.SDP})
	case "answer":
		if p := s.peers[m.From]; p != nil {
			return s.setRemote(p, webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.Sdp})
		}
	case "ice_candidate":
		if p := s.peers[m.From]; p != nil && m.Candidate != nil {
			s.addCandidate(p, m.Candidate)
		}
	case "peer_left":
		if p := s.peers[m.PeerID]; p != nil {
			go p.pc.Close()
			delete(s.peers, m.PeerID)
		}
		s.emit(map[string]any{"event": "peer_left", "peer_id": m.PeerID, "reason": m.Reason})
	case "room_left":
		s.emit(map[string]any{"event": "left"})
	case "error":
		s.emit(map[string]any{"event": "error", "code": m.Code, "message": m.Message})
	}
	return nil
}

type command struct {
	Cmd   string `json:"cmd"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	Count int    `json:"count"`
	Bytes int    `json:"bytes"`
}

// sendMessage sends one `message` frame with text to p; returns its id.
func (s *stranger) sendMessage(p *peer, text string) (string, error) {
	mid := uuid()
	p.seq++
	seq, now := p.seq, uint64(time.Now().UnixMilli())
	b, _ := json.Marshal(frame{Type: "message", ID: &mid, Seq: &seq, SentAtMs: &now, Text: &text})
	return mid, p.dc.SendText(string(b))
}

func (s *stranger) command(c command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	open := map[string]*peer{}
	for id, p := range s.peers {
		p.channelM.Lock()
		if p.dc != nil && p.dc.ReadyState() == webrtc.DataChannelStateOpen {
			open[id] = p
		}
		p.channelM.Unlock()
	}
	switch c.Cmd {
	case "create":
		s.signal(signal{Type: "create_room", Name: s.name})
	case "join":
		s.signal(signal{Type: "join_room", Code: c.Code, Name: s.name})
	case "send":
		for id, p := range open {
			mid, err := s.sendMessage(p, c.Text)
			if err != nil {
				s.emit(map[string]any{"event": "error", "code": "send", "message": err.Error()})
				continue
			}
			s.emit(map[string]any{"event": "sent", "id": mid, "to": id})
		}
	case "bulk":
		// `count` messages of `bytes` ASCII bytes each to every open peer, one `bulk_sent`
		// event per peer at the end (the benchmark's throughput run, peerchat bench --compare).
		text := strings.Repeat("x", c.Bytes)
		for id, p := range open {
			for i := 0; i < c.Count; i++ {
				if _, err := s.sendMessage(p, text); err != nil {
					s.emit(map[string]any{"event": "error", "code": "send", "message": err.Error()})
					break
				}
			}
			s.emit(map[string]any{"event": "bulk_sent", "to": id, "count": c.Count})
		}
	case "raw":
		for _, p := range open {
			_ = p.dc.SendText(c.Text)
		}
	case "binary":
		for _, p := range open {
			_ = p.dc.Send([]byte(c.Text))
		}
	case "leave":
		s.signal(signal{Type: "leave_room"})
		for id, p := range s.peers {
			go p.pc.Close()
			delete(s.peers, id)
		}
	default:
		s.emit(map[string]any{"event": "error", "code": "bad_command", "message": c.Cmd})
	}
}

func main() {
	url := flag.String("url", "", "signaling URL, ws://host:port/ws")
	name := flag.String("name", "", "display name")
	noHello := flag.Bool("no-hello", false, "do not send hello when a channel opens")
	helloName := flag.String("hello-name", "", "name put in hello (default: --name)")
	omitText := flag.Bool("omit-text", false, "message events carry `bytes` instead of `text`")
	flag.Parse()
	if *url == "" || *name == "" {
		fmt.Fprintln(os.Stderr, "usage: pion-peer --url ws://host:port/ws --name NAME")
		os.Exit(2)
	}
	if *helloName == "" {
		*helloName = *name
	}

	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(iface string) bool { return iface == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))

	ws, _, err := websocket.DefaultDialer.Dial(*url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signaling:", err)
		os.Exit(1)
	}
	s := &stranger{ws: ws, api: api, name: *name, helloName: *helloName, sendHello: !*noHello,
		omitText: *omitText, peers: map[string]*peer{}}

	go func() {
		for {
			var m signal
			if err := ws.ReadJSON(&m); err != nil {
				s.emit(map[string]any{"event": "signaling_closed"})
				return
			}
			if err := s.onSignal(m); err != nil {
				s.emit(map[string]any{"event": "error", "code": "stranger", "message": m.Type + ": " + err.Error()})
			}
		}
	}()

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			s.emit(map[string]any{"event": "error", "code": "bad_command", "message": err.Error()})
			continue
		}
		s.command(c)
	}
	s.mu.Lock()
	for _, p := range s.peers {
		p.pc.Close()
	}
	s.mu.Unlock()
	ws.Close()
}
