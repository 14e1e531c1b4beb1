//! Turning one text frame into a [`ClientMessage`], or into the exact refusal for it.

use peerchat_core::protocol::{
    ClientMessage, ErrorCode, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES, ServerMessage,
};

/// Every `type` a client may send, as on the wire.
pub const CLIENT_TYPES: &[&str] = &[
    "create_room",
    "join_room",
    "leave_room",
    "login",
    "logout",
    "offer",
    "answer",
    "ice_candidate",
    "bye",
    "ping",
    "resume",
    "rejoin_room",
];

/// A refused frame: the fields of the `error` the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Wire error code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The `type` of the refused request, when it could be read.
    pub request: Option<String>,
}

impl From<Refusal> for ServerMessage {
    fn from(r: Refusal) -> Self {
        ServerMessage::Error {
            code: r.code,
            message: r.message,
            request: r.request,
        }
    }
}

impl Refusal {
    /// A refusal of a request whose type is known.
    pub fn new(code: ErrorCode, message: impl Into<String>, request: Option<&str>) -> Self {
        Self {
            code,
            message: message.into(),
            request: request.map(str::to_string),
        }
    }
}

/// The wire `type` of a client message.
pub fn type_name(msg: &ClientMessage) -> &'static str {
    msg.type_name()
}

/// The `type` string of a frame, if it is a JSON object with a string `type` (used to label a
/// refusal that happens before full parsing, such as `rate_limited`).
pub fn peek_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Tagged {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Tagged>(text).ok().map(|t| t.kind)
}

/// Parses and checks one text frame.
///
/// Errors: `invalid_json` when the text is not JSON; `unknown_type` when it is not an object
/// with a string `type` naming one of [`CLIENT_TYPES`]; `invalid_message` when a field is
/// missing or mistyped, or an SDP is over [`MAX_SDP_BYTES`] or a candidate over
/// [`MAX_CANDIDATE_BYTES`]. Names are checked later (they need trimming), by the hub.
pub fn parse(text: &str) -> Result<ClientMessage, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Refusal::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}"), None))?;
    let kind = match value.get("type") {
        None => {
            return Err(Refusal::new(
                ErrorCode::UnknownType,
                "the message has no \"type\" field (or is not a JSON object)",
                None,
            ));
        }
        Some(serde_json::Value::String(kind)) => kind.clone(),
        Some(_) => {
            return Err(Refusal::new(
                ErrorCode::UnknownType,
                "\"type\" must be a string",
                None,
            ));
        }
    };
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        let shown: String = kind.chars().take(64).collect();
        return Err(Refusal::new(
            ErrorCode::UnknownType,
            format!("unknown message type \"{shown}\""),
            Some(&shown),
        ));
    }
    let msg: ClientMessage = serde_json::from_value(value).map_err(|e| {
        Refusal::new(
            ErrorCode::InvalidMessage,
            format!("invalid {kind}: {e}"),
            Some(&kind),
        )
    })?;
    check_limits(&msg)?;
    Ok(msg)
}

fn check_limits(msg: &ClientMessage) -> Result<(), Refusal> {
    let kind = type_name(msg);
    match msg {
        ClientMessage::Offer { sdp, .. } | ClientMessage::Answer { sdp, .. }
            if sdp.len() > MAX_SDP_BYTES =>
        {
            Err(Refusal::new(
                ErrorCode::InvalidMessage,
                format!(
                    "sdp is {} bytes, at most {MAX_SDP_BYTES} are relayed",
                    sdp.len()
                ),
                Some(kind),
            ))
        }
        ClientMessage::IceCandidate { candidate, .. } => {
            let total = candidate.counted_bytes();
            if total > MAX_CANDIDATE_BYTES {
                Err(Refusal::new(
                    ErrorCode::InvalidMessage,
                    format!(
                        "candidate is {total} bytes (candidate, sdp_mid, username_fragment and \
                         unknown members together), at most {MAX_CANDIDATE_BYTES} are relayed"
                    ),
                    Some(kind),
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerchat_core::protocol::IceCandidate;

    #[test]
    fn client_types_cover_every_variant() {
        let all = [
            ClientMessage::CreateRoom { name: "a".into() },
            ClientMessage::JoinRoom {
                code: "x".into(),
                name: "a".into(),
            },
            ClientMessage::LeaveRoom,
            ClientMessage::Login { login: "a".into() },
            ClientMessage::Logout,
            ClientMessage::Offer {
                to: None,
                to_login: None,
                sdp: String::new(),
            },
            ClientMessage::Answer {
                to: None,
                to_login: None,
                sdp: String::new(),
            },
            ClientMessage::IceCandidate {
                to: None,
                to_login: None,
                candidate: IceCandidate {
                    candidate: String::new(),
                    sdp_mid: None,
                    sdp_m_line_index: None,
                    username_fragment: None,
                    extra: Default::default(),
                },
            },
            ClientMessage::Bye {
                to: None,
                to_login: None,
            },
            ClientMessage::Ping,
            ClientMessage::Resume {
                session_token: String::new(),
            },
            ClientMessage::RejoinRoom {
                code: String::new(),
                name: String::new(),
            },
        ];
        assert_eq!(all.len(), CLIENT_TYPES.len());
        for msg in &all {
            let json = serde_json::to_value(msg).unwrap();
            assert_eq!(json["type"], type_name(msg));
            assert!(CLIENT_TYPES.contains(&type_name(msg)));
            assert_eq!(parse(&json.to_string()).unwrap(), *msg);
        }
    }

    #[test]
    fn refusals_have_the_right_codes() {
        let code = |t: &str| parse(t).unwrap_err().code;
        assert_eq!(code("{not json"), ErrorCode::InvalidJson);
        assert_eq!(code("[1,2]"), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"name":"x"}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"type":7}"#), ErrorCode::UnknownType);
        let r = parse(r#"{"type":"dance"}"#).unwrap_err();
        assert_eq!(r.code, ErrorCode::UnknownType);
        assert_eq!(r.request.as_deref(), Some("dance"));
        let r = parse(r#"{"type":"join_room","name":"x"}"#).unwrap_err();
        assert_eq!(r.code, ErrorCode::InvalidMessage);
        assert_eq!(r.request.as_deref(), Some("join_room"));
        assert_eq!(
            code(r#"{"type":"login","login":5}"#),
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn sdp_and_candidate_limits() {
        let offer =
            |n: usize| serde_json::json!({"type":"offer","to":"p","sdp":"v".repeat(n)}).to_string();
        assert!(parse(&offer(MAX_SDP_BYTES)).is_ok());
        assert_eq!(
            parse(&offer(MAX_SDP_BYTES + 1)).unwrap_err().code,
            ErrorCode::InvalidMessage
        );
        let cand = |n: usize| {
            serde_json::json!({"type":"ice_candidate","to":"p",
                "candidate":{"candidate":"c".repeat(n)}})
            .to_string()
        };
        assert!(parse(&cand(MAX_CANDIDATE_BYTES)).is_ok());
        assert_eq!(
            parse(&cand(MAX_CANDIDATE_BYTES + 1)).unwrap_err().code,
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn unknown_candidate_members_are_kept_and_counted_unknown_top_level_fields_dropped() {
        let msg = parse(
            r#"{"type":"ice_candidate","to":"p","session":"s1","candidate":{"candidate":"c","sdp_mid":"0","relay_protocol":"udp","x":{"y":[1,2]}}}"#,
        )
        .unwrap();
        let ClientMessage::IceCandidate { candidate, .. } = &msg else {
            panic!("not a candidate: {msg:?}");
        };
        assert_eq!(candidate.extra["relay_protocol"], "udp");
        assert_eq!(candidate.extra["x"], serde_json::json!({"y":[1,2]}));
        // "c" + "0" + `"relay_protocol":"udp"` (22) + `"x":{"y":[1,2]}` (15)
        assert_eq!(candidate.counted_bytes(), 1 + 1 + 22 + 15);
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(
            json.get("session"),
            None,
            "unknown top-level fields are not kept"
        );
        assert_eq!(json["candidate"]["x"]["y"][1], 2);
        let padded = |n: usize| {
            serde_json::json!({"type":"ice_candidate","to":"p",
                "candidate":{"candidate":"c","pad":"p".repeat(n)}})
            .to_string()
        };
        // 1 + `"pad":"…"` (8 + n) bytes.
        assert!(parse(&padded(MAX_CANDIDATE_BYTES - 9)).is_ok());
        assert_eq!(
            parse(&padded(MAX_CANDIDATE_BYTES - 8)).unwrap_err().code,
            ErrorCode::InvalidMessage
        );
    }

    #[test]
    fn peek_type_reads_the_tag_only() {
        assert_eq!(
            peek_type(r#"{"type":"ping","x":1}"#).as_deref(),
            Some("ping")
        );
        assert_eq!(peek_type("nope"), None);
    }
}
