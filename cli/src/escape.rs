//! Escaping of text that comes from other parties (peers, the signaling server) before it is
//! printed on the terminal.
//!
//! A peer chooses its display name and its message text. Printed raw, a `\n` would let it
//! forge whole event lines (`* peer left: …`, `! error: …`), and an ESC (`\x1b`) would let it
//! send terminal control sequences (move the cursor, rewrite earlier lines, change the title).
//! Every character that is not printable text is therefore shown as an escape instead.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach the terminal as is: the C0 controls (U+0000–U+001F, including
/// `\n`, `\r`, `\t` and ESC), DEL (U+007F), the C1 controls (U+0080–U+009F, which some
/// terminals read as CSI and friends), and the Unicode bidirectional formatting characters
/// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorder how the rest of a line
/// is displayed (Unicode Technical Standard #9, the "Trojan Source" attack, CVE-2021-42574),
/// plus the line and paragraph separators U+2028 and U+2029.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every [`is_unsafe`] character replaced by an escape: `\n`, `\r`, `\t`, or
/// `\u{XXXX}` (hex code point) for the others. Text without such characters is returned
/// borrowed. A backslash already in `text` is kept as is: the result is always one line.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert!(matches!(escape("héllo wörld 👋 \\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(
            escape("hi\n* peer left: Bob (left)"),
            "hi\\n* peer left: Bob (left)"
        );
        assert_eq!(escape("a\r\tb"), "a\\r\\tb");
        assert_eq!(
            escape("\x1b]0;pwned\x07\x1b[2J"),
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape("x\u{202E}txt.exe"), "x\\u{202e}txt.exe");
        assert_eq!(escape("\u{7f}\u{2028}"), "\\u{7f}\\u{2028}");
    }
}
