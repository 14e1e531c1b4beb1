//! The hot path of [`crate::chat::encode_message`]: a `message` frame written straight into one
//! `String`, byte for byte what `serde_json` makes of [`crate::chat::Frame::Message`].
//!
//! Why: through serde a message was copied twice into the `Frame` (id, text) and every text byte
//! went through `serde_json`'s per-byte escape loop; for bulk chat that was the largest
//! user-space cost of the sending engine (`perf`, docs/benchmark.md). Here a string with
//! nothing to escape (the common case) is one scan and one copy; a string that needs escaping
//! is still written by `serde_json`, so the escaping rules are serde's own.

use std::fmt::Write as _;

/// Whether `serde_json` would escape a byte of `s` (RFC 8259 §7: `"`, `\` and controls).
/// Tested 32 bytes at a time without an early exit inside a block, which the compiler turns
/// into vector compares (a byte-at-a-time `any` does not vectorize).
fn needs_escape(s: &str) -> bool {
    let escaped = |b: &u8| (*b < 0x20) | (*b == b'"') | (*b == b'\\');
    let mut blocks = s.as_bytes().chunks_exact(32);
    let in_blocks = blocks
        .by_ref()
        .any(|block| block.iter().fold(false, |seen, b| seen | escaped(b)));
    in_blocks || blocks.remainder().iter().any(escaped)
}

/// Appends `s` as a JSON string (quotes included), escaped exactly as `serde_json` does.
fn push_json_str(out: &mut String, s: &str) {
    if needs_escape(s) {
        // Cannot fail: a `&str` always serializes.
        out.push_str(&serde_json::to_string(s).expect("a str always serializes"));
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// `{"type":"message","id":…,"seq":…,"sent_at_ms":…,"text":…}`, the field order of
/// `Frame::Message`'s derive.
pub(crate) fn message_frame(id: &str, seq: u64, sent_at_ms: u64, text: &str) -> String {
    // 60 bytes of field names and numbers, plus the strings and their quotes.
    let mut out = String::with_capacity(64 + id.len() + text.len());
    out.push_str(r#"{"type":"message","id":"#);
    push_json_str(&mut out, id);
    // Writing to a String cannot fail.
    let _ = write!(out, r#","seq":{seq},"sent_at_ms":{sent_at_ms},"text":"#);
    push_json_str(&mut out, text);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::message_frame;
    use crate::chat::{Frame, encode};

    #[test]
    fn message_frame_is_byte_for_byte_serde_json() {
        let texts = [
            "hi".to_string(),
            "x".repeat(16 * 1024),
            "quote \" backslash \\ slash / done".to_string(),
            "controls \u{0} \u{1} \u{8} \u{9} \u{a} \u{c} \u{d} \u{1f} \u{7f}".to_string(),
            "unicode é 中文 🙂 \u{2028} \u{2029}".to_string(),
            // One byte to escape inside a later 32-byte block, and in the tail after them.
            format!("{}\"{}", "x".repeat(100), "x".repeat(50)),
            format!("{}\n", "x".repeat(64)),
            String::new(),
        ];
        let ids = [
            "018f3c1e-7b2a-7cde-8f00-0123456789ab",
            "id \"with\" quotes",
            "",
        ];
        for text in &texts {
            for id in ids {
                for (seq, at) in [(0, 0), (1, 1_700_000_000_000), (u64::MAX, u64::MAX)] {
                    let expected = encode(&Frame::Message {
                        id: id.to_string(),
                        seq,
                        sent_at_ms: at,
                        text: text.clone(),
                    });
                    assert_eq!(message_frame(id, seq, at, text), expected, "text {text:?}");
                }
            }
        }
    }
}
