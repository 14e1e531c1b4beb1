//! The chat protocol carried on the data channel: frame format, acknowledgements and dedup.
//!
//! Every data-channel message is one JSON text frame with a `type`:
//!
//! | frame | fields | meaning |
//! |---|---|---|
//! | `hello` | `name`, `version` | sent once by each side when the channel opens |
//! | `message` | `id`, `seq`, `sent_at_ms`, `text` | a chat message |
//! | `ack` | `id` | the receiver got message `id` (status `delivered`) |
//! | `peer_id` | `peer_id` | the sender's signaling session was replaced: this is its new peer id |
//! | `sync_request` | `ids` | history sync: the ids of the sender's newest saved messages of the conversation ([`crate::store::sync`]) |
//! | `sync_message` | `id`, `sent_at_ms`, `text` | history sync: one of the sender's own messages the requester is missing |
//! | `probe` | `padding` | after an ICE restart: makes SCTP retransmit what the old path lost ([`PATH_PROBES`]) |
//!
//! The data channel is reliable and ordered (SCTP, RFC 8831), so messages from one peer arrive
//! in the order they were sent; [`Inbox`] drops a message whose `id` it has already seen (a
//! resend after reconnection) but still acknowledges it, so the sender's status converges.
//! The sending side (ids, `seq`, statuses, re-sends) is [`crate::outbox`].
//! Frames of an unknown `type` are ignored, for forward compatibility. Binary data-channel
//! messages and `message` frames with an empty text are refused ([`FrameError`]). A `message`
//! needs no `hello` before it, and the name shown for a peer is the one the signaling server
//! announced, never `hello.name` (docs/protocol.md, "Data-channel chat protocol").

use std::collections::{HashSet, VecDeque};

use serde::{Deserialize, Serialize};

/// Label of the chat data channel, created by the peer that sends the SDP offer.
pub const DATA_CHANNEL_LABEL: &str = "peerchat";

/// Label of the receipt data channel (unordered, reliable), created by the SDP offerer next to
/// the chat channel. It carries `ack` frames so that a receipt never waits behind queued chat
/// messages: SCTP sends unordered messages ahead of queued ordered ones (the `rtc-sctp` pending
/// queue, RFC 9260 §6.6), and an unordered message is delivered without waiting for earlier
/// ones. Used only once the peer has sent [`RECEIPT_CHANNEL_READY_FRAME`] on it; a peer that
/// never does (an older version, a browser client) gets its acks on the chat channel.
pub const RECEIPT_CHANNEL_LABEL: &str = "peerchat-receipts";

/// First frame each side sends on the receipt channel once it is open: "I read acks here".
/// Until it arrives, acks go on the chat channel, because an older peer's `webrtc` stack opens
/// any announced channel (RFC 8832 DCEP) but never reads one it does not know.
pub const RECEIPT_CHANNEL_READY_FRAME: &str = r#"{"type":"receipts_ready"}"#;

/// Version of this chat protocol, sent in `hello`.
pub const CHAT_PROTOCOL_VERSION: u32 = 1;

/// Largest chat message text, in UTF-8 bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Largest data-channel frame (bytes) accepted from a peer. A `message` frame with the largest
/// text, JSON-escaped, stays under this unless the text is mostly control characters, which
/// [`encode_message`] refuses with the size it would have.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Message ids remembered per peer for dedup. Older ids are forgotten first.
pub const DEDUP_WINDOW: usize = 65_536;

/// Number of `probe` frames each side writes when an ICE restart of its connection has
/// connected (see [`Frame::Probe`]). Three, because SCTP fast-retransmits a DATA chunk once three
/// SACKs have reported it missing (RFC 9260 §7.2.4, the `rtc-sctp` "miss indications").
pub const PATH_PROBES: usize = 3;

/// Time between two `probe` frames, in ms: the receiver's SCTP answers packets that arrive
/// together with one SACK, and fast retransmit needs three.
pub const PATH_PROBE_INTERVAL_MS: u64 = 20;

/// Size in bytes of one `probe` frame ([`path_probe_frame`]): more than half of the `rtc-sctp`
/// 0.21.1 path MTU (1,191 bytes), so that two probes never share an SCTP packet and each one
/// draws its own SACK from the receiver.
pub const PATH_PROBE_FRAME_BYTES: usize = 640;

// Two probes never fit one SCTP packet of the rtc-sctp 0.21.1 path MTU (1,191 bytes): common
// header 12 bytes, DATA chunk header 16 bytes each.
const _: () = assert!(12 + 2 * (16 + PATH_PROBE_FRAME_BYTES) > 1_191);

/// A `probe` frame of exactly [`PATH_PROBE_FRAME_BYTES`] bytes.
pub fn path_probe_frame() -> String {
    let empty = encode(&Frame::Probe {
        padding: String::new(),
    });
    encode(&Frame::Probe {
        padding: " ".repeat(PATH_PROBE_FRAME_BYTES.saturating_sub(empty.len())),
    })
}

/// One data-channel frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// Sent once per side when the channel opens.
    Hello {
        /// Sender's display name.
        name: String,
        /// [`CHAT_PROTOCOL_VERSION`].
        version: u32,
    },
    /// A chat message.
    Message {
        /// Unique id (UUID v7 text).
        id: String,
        /// 1 for the sender's first message on this connection, then +1 each.
        seq: u64,
        /// Sender's clock at sending, ms since the Unix epoch.
        sent_at_ms: u64,
        /// The text, at most [`MAX_MESSAGE_BYTES`] UTF-8 bytes.
        text: String,
    },
    /// Acknowledges a `message`.
    Ack {
        /// The acknowledged message's id.
        id: String,
    },
    /// The sender's signaling session could not be resumed (the server restarted, or the
    /// session's grace period ran out), so the server knows it by a new peer id now. Sent on
    /// every open data channel right after the new `welcome`; the receiver addresses the
    /// sender's signaling messages to this id from then on. Carried over the DTLS-protected
    /// data channel, so neither the server nor another peer can forge it.
    PeerId {
        /// The sender's new peer id (from its `welcome`).
        peer_id: String,
    },
    /// History sync ([`crate::store::sync`]): the ids of the sender's newest saved messages
    /// of the conversation, newest first, at most
    /// [`SYNC_REQUEST_IDS`](crate::store::sync::SYNC_REQUEST_IDS). Sent once per data channel
    /// when it opens; it also announces that the sender understands `sync_message` (a peer
    /// answers only a peer that asked, so older peers never get a `sync_message`).
    SyncRequest {
        /// Message ids, newest first.
        ids: Vec<String>,
    },
    /// History sync: one of the sender's **own** earlier messages that the requester is
    /// missing, with its original id and time. Acknowledged with `ack` like a `message`;
    /// saved to history, not shown as a new message.
    SyncMessage {
        /// The message's id (as first sent).
        id: String,
        /// Sender's clock when it was first sent, ms since the Unix epoch.
        sent_at_ms: u64,
        /// The text, 1 to [`MAX_MESSAGE_BYTES`] UTF-8 bytes.
        text: String,
    },
    /// Sent [`PATH_PROBES`] times by each side once an ICE restart of the connection has
    /// connected, on the receipt channel if the peer reads it, else on the chat channel; the
    /// receiver ignores it. Why: DATA chunks written while the old path was dying are lost, and
    /// SCTP would only resend them when its retransmission timer fires (RTO at least 1 s, doubled
    /// on every expiry and kept doubled: RFC 9260 §6.3.3). New chunks behind the lost ones make
    /// the receiver report the gap in a SACK per packet, and the third report triggers fast
    /// retransmit (§7.2.4), within a round trip of the new path being up. docs/protocol.md,
    /// "ICE restart and renegotiation".
    Probe {
        /// Spaces, to make the frame [`PATH_PROBE_FRAME_BYTES`] long.
        padding: String,
    },
}

/// Why a received frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("frame of {size} bytes exceeds {max} bytes")]
    TooLarge {
        /// Frame size in bytes.
        size: usize,
        /// [`MAX_FRAME_BYTES`].
        max: usize,
    },
    /// Not UTF-8, not JSON, or a known `type` with wrong fields.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// A `message` whose `text` is empty (zero bytes): the protocol's texts are 1 to
    /// [`MAX_MESSAGE_BYTES`] bytes.
    #[error("message text is empty")]
    EmptyText,
    /// A binary data-channel message (WebRTC binary, SCTP PPID 53 or 57): every frame of this
    /// protocol is a text message, so the receiver refuses it without decoding it.
    #[error("binary data-channel message of {size} bytes: frames must be text messages")]
    Binary {
        /// Payload size in bytes.
        size: usize,
    },
    /// A `message` whose text exceeds [`MAX_MESSAGE_BYTES`].
    #[error("message text of {size} bytes exceeds {max} bytes")]
    TextTooLarge {
        /// Text size in bytes.
        size: usize,
        /// [`MAX_MESSAGE_BYTES`].
        max: usize,
    },
}

/// Result of decoding a frame: a known frame, or one of an unknown `type` to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A frame of this protocol version.
    Frame(Frame),
    /// A JSON object with a `type` this version does not know.
    Unknown(String),
}

/// Decodes one data-channel message: `is_text` is whether it arrived as a WebRTC text message
/// (SCTP PPID 51/56). Errors: [`FrameError::Binary`] for a binary message, else those of
/// [`decode`].
pub fn decode_message(is_text: bool, bytes: &[u8]) -> Result<Decoded, FrameError> {
    if is_text {
        decode(bytes)
    } else {
        Err(FrameError::Binary { size: bytes.len() })
    }
}

/// Decodes one data-channel text frame. Errors: [`FrameError::TooLarge`],
/// [`FrameError::Malformed`], [`FrameError::EmptyText`], [`FrameError::TextTooLarge`].
pub fn decode(bytes: &[u8]) -> Result<Decoded, FrameError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            size: bytes.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    match serde_json::from_slice::<Frame>(bytes) {
        Ok(Frame::Message { text, .. }) if text.len() > MAX_MESSAGE_BYTES => {
            Err(FrameError::TextTooLarge {
                size: text.len(),
                max: MAX_MESSAGE_BYTES,
            })
        }
        Ok(Frame::Message { text, .. }) if text.is_empty() => Err(FrameError::EmptyText),
        Ok(Frame::SyncMessage { text, .. }) if text.len() > MAX_MESSAGE_BYTES => {
            Err(FrameError::TextTooLarge {
                size: text.len(),
                max: MAX_MESSAGE_BYTES,
            })
        }
        Ok(Frame::SyncMessage { text, .. }) if text.is_empty() => Err(FrameError::EmptyText),
        Ok(Frame::SyncRequest { ids }) if ids.len() > crate::store::sync::SYNC_REQUEST_IDS => {
            Err(FrameError::Malformed(format!(
                "sync_request lists {} ids, the limit is {}",
                ids.len(),
                crate::store::sync::SYNC_REQUEST_IDS
            )))
        }
        Ok(frame) => Ok(Decoded::Frame(frame)),
        Err(err) => {
            #[derive(Deserialize)]
            struct Tagged {
                #[serde(rename = "type")]
                kind: String,
            }
            match serde_json::from_slice::<Tagged>(bytes) {
                Ok(Tagged { kind })
                    if !matches!(
                        kind.as_str(),
                        "hello"
                            | "message"
                            | "ack"
                            | "peer_id"
                            | "sync_request"
                            | "sync_message"
                            | "probe"
                    ) =>
                {
                    Ok(Decoded::Unknown(kind))
                }
                _ => Err(FrameError::Malformed(err.to_string())),
            }
        }
    }
}

/// Encodes a frame as JSON text.
pub fn encode(frame: &Frame) -> String {
    serde_json::to_string(frame).expect("frames always serialize")
}

/// Encodes a `message` frame, refusing one whose encoding exceeds [`MAX_FRAME_BYTES`]
/// (returns the encoded size as the error). The same bytes as [`encode`] of a
/// [`Frame::Message`], written without copying into a `Frame` first (`chat_json`).
pub fn encode_message(id: &str, seq: u64, sent_at_ms: u64, text: &str) -> Result<String, usize> {
    let json = crate::chat_json::message_frame(id, seq, sent_at_ms, text);
    if json.len() > MAX_FRAME_BYTES {
        Err(json.len())
    } else {
        Ok(json)
    }
}

/// Receiving side of one peer: remembers the last [`DEDUP_WINDOW`] message ids.
#[derive(Debug, Default)]
pub struct Inbox {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Inbox {
    /// Records `id`; returns `true` the first time, `false` for a duplicate.
    pub fn accept(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == DEDUP_WINDOW
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_probe_frame_has_its_documented_size_and_decodes_as_a_probe() {
        let probe = path_probe_frame();
        assert_eq!(probe.len(), PATH_PROBE_FRAME_BYTES);
        assert!(
            probe.starts_with(r#"{"type":"probe","padding":" "#),
            "{probe}"
        );
        assert!(matches!(
            decode(probe.as_bytes()),
            Ok(Decoded::Frame(Frame::Probe { .. }))
        ));
    }

    #[test]
    fn frames_round_trip_with_documented_field_names() {
        let json = encode_message("m1", 1, 1_700_000_000_000, "hi").unwrap();
        assert_eq!(
            json,
            r#"{"type":"message","id":"m1","seq":1,"sent_at_ms":1700000000000,"text":"hi"}"#
        );
        assert_eq!(
            decode(json.as_bytes()).unwrap(),
            Decoded::Frame(Frame::Message {
                id: "m1".into(),
                seq: 1,
                sent_at_ms: 1_700_000_000_000,
                text: "hi".into()
            })
        );
        assert_eq!(
            encode(&Frame::Ack { id: "m1".into() }),
            r#"{"type":"ack","id":"m1"}"#
        );
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_frames_refused() {
        assert_eq!(
            decode(br#"{"type":"typing","active":true}"#).unwrap(),
            Decoded::Unknown("typing".into())
        );
        assert!(matches!(decode(b"not json"), Err(FrameError::Malformed(_))));
        assert!(matches!(
            decode(br#"{"type":"message","id":"x"}"#),
            Err(FrameError::Malformed(_))
        ));
        let big = vec![b' '; MAX_FRAME_BYTES + 1];
        assert!(matches!(decode(&big), Err(FrameError::TooLarge { .. })));
        let long = "x".repeat(MAX_MESSAGE_BYTES + 1);
        let frame =
            format!(r#"{{"type":"message","id":"a","seq":1,"sent_at_ms":1,"text":"{long}"}}"#);
        assert!(matches!(
            decode(frame.as_bytes()),
            Err(FrameError::TextTooLarge { .. })
        ));
    }

    #[test]
    fn empty_text_and_binary_messages_are_refused() {
        assert_eq!(
            decode(br#"{"type":"message","id":"a","seq":1,"sent_at_ms":1,"text":""}"#),
            Err(FrameError::EmptyText)
        );
        let one = br#"{"type":"message","id":"a","seq":1,"sent_at_ms":1,"text":"x"}"#;
        assert!(matches!(
            decode(one),
            Ok(Decoded::Frame(Frame::Message { .. }))
        ));
        assert_eq!(
            decode_message(false, one),
            Err(FrameError::Binary { size: one.len() })
        );
        assert!(decode_message(true, one).is_ok());
    }

    #[test]
    fn largest_text_of_control_characters_is_refused_by_frame_size() {
        let text = "\u{1}".repeat(MAX_MESSAGE_BYTES);
        assert!(encode_message("id", 1, 1, &text).is_err());
        let text = "é".repeat(MAX_MESSAGE_BYTES / 2);
        assert!(encode_message("id", 1, 1, &text).is_ok());
    }

    #[test]
    fn sync_frames_round_trip_and_are_bounded() {
        let req = encode(&Frame::SyncRequest {
            ids: vec!["a".into(), "b".into()],
        });
        assert_eq!(req, r#"{"type":"sync_request","ids":["a","b"]}"#);
        assert!(matches!(
            decode(req.as_bytes()),
            Ok(Decoded::Frame(Frame::SyncRequest { .. }))
        ));
        let m = encode(&Frame::SyncMessage {
            id: "m".into(),
            sent_at_ms: 5,
            text: "t".into(),
        });
        assert_eq!(
            m,
            r#"{"type":"sync_message","id":"m","sent_at_ms":5,"text":"t"}"#
        );
        assert!(matches!(
            decode(br#"{"type":"sync_message","id":"m","sent_at_ms":5,"text":""}"#),
            Err(FrameError::EmptyText)
        ));
        let ids: Vec<String> = (0..=crate::store::sync::SYNC_REQUEST_IDS)
            .map(|i| i.to_string())
            .collect();
        let too_many = encode(&Frame::SyncRequest { ids });
        assert!(matches!(
            decode(too_many.as_bytes()),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            decode(br#"{"type":"sync_request"}"#),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn inbox_drops_duplicates_within_window() {
        let mut inbox = Inbox::default();
        assert!(inbox.accept("a"));
        assert!(!inbox.accept("a"));
        for i in 0..DEDUP_WINDOW {
            inbox.accept(&i.to_string());
        }
        assert!(inbox.accept("a"), "forgotten once outside the window");
    }
}
