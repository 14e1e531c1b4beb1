//! Display names and logins as people see them: look-alikes compare equal, invisible and
//! direction-changing characters are refused.
//!
//! - **Comparison key** of a login ([`login_key`]): Unicode NFKC (UAX #15; folds fullwidth,
//!   ligatures, superscripts, …), then lower case, then the UTS #39 confusable *skeleton*
//!   (`unicode-security` crate; e.g. Cyrillic `а` and Latin `a` share one), so `аlice`,
//!   `ａｌｉｃｅ` and `ALICE` are all the login `alice`.
//! - **Refused characters** ([`check`]): default-ignorable code points (zero-width space and
//!   joiners, BOM, soft hyphen, variation selectors, …), the bidirectional formatting
//!   characters (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and every other format
//!   (`Cf`) or control character. A name made only of such characters is refused as well.
//! - **Shown form** ([`check`]'s result): the NFKC form, so others see `alice`, not `ａｌｉｃｅ`.

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// Why a name or login was refused (reported as `invalid_name`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// An invisible, format or bidirectional-control character.
    #[error("names cannot contain invisible or text-direction characters (found U+{0:04X})")]
    Invisible(u32),
}

/// Whether `c` is refused in names (see the module docs).
fn refused(c: char) -> bool {
    let cp = u32::from(c);
    c.is_control()
        || matches!(cp,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
            | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF)
        || unicode_security::GeneralSecurityProfile::identifier_type(c)
            == Some(unicode_security::general_security_profile::IdentifierType::Default_Ignorable)
}

/// Checks a name or login (already trimmed and length-checked by
/// `peerchat_core::protocol::validate_name`) and returns the form to store and show: its NFKC
/// normalization. Errors: [`NameError::Invisible`] naming the first refused character.
pub fn check(name: &str) -> Result<String, NameError> {
    if let Some(c) = name.chars().find(|c| refused(*c)) {
        return Err(NameError::Invisible(u32::from(c)));
    }
    Ok(name.nfkc().collect())
}

/// `peerchat_core::protocol::validate_name` (trim, length, control characters), then
/// [`check`]. Errors: the first refusal, as text for the `invalid_name` error.
pub fn validate(name: &str) -> Result<String, String> {
    let name = peerchat_core::protocol::validate_name(name).map_err(|e| e.to_string())?;
    check(&name).map_err(|e| e.to_string())
}

/// The comparison key of a login: skeleton(lowercase(NFKC(login))) (see the module docs).
pub fn login_key(login: &str) -> String {
    let folded: String = login.nfkc().collect::<String>().to_lowercase();
    skeleton(&folded).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_share_a_key() {
        let alice = login_key("alice");
        for other in ["ALICE", "\u{0430}lice", "ａｌｉｃｅ", "Alice"] {
            assert_eq!(login_key(other), alice, "{other}");
        }
        assert_ne!(login_key("bob"), alice);
    }

    #[test]
    fn invisible_and_bidi_characters_are_refused() {
        for bad in [
            "al\u{200B}ice",
            "\u{FEFF}",
            "\u{202E}ecila",
            "a\u{2066}b",
            "x\u{00AD}y",
            "z\u{200D}",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check("ａｌｉｃｅ").unwrap(), "alice");
        assert_eq!(check("Zoë 李").unwrap(), "Zoë 李");
    }
}
