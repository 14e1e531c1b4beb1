//! The safety code: a short code two users compare (read aloud, or side by side) to check
//! that nobody sits in the middle of their peer connection.
//!
//! Each side's DTLS certificate is named in its SDP by `a=fingerprint` lines (RFC 8122 §5),
//! and DTLS refuses a peer whose certificate does not match the fingerprint in the SDP it
//! received (RFC 8842 §5; the `webrtc` crate checks it). Someone who rewrites the SDP on the
//! way (a malicious or compromised signaling server) must put their own fingerprint in it and
//! terminate DTLS on each side, so each user then sees a connection made of their own
//! fingerprint and the intruder's: the two codes differ. With no intruder both sides hash the
//! same pair and see the same code.
//!
//! The code: SHA-256 over `peerchat-safety-code-v1`, then the two sides' fingerprint sets in
//! byte order (so both sides compute the same input), each set as its normalized
//! `a=fingerprint` values (`<hash function in lower case> <hex in upper case with colons>`)
//! sorted and joined by `\n`, separated by a zero byte. The first [`SAFETY_CODE_GROUPS`] × 5
//! bytes of the digest give as many groups of five decimal digits (each 5-byte big-endian
//! number modulo 100,000), written with spaces between: `12345 67890 13579 24680`. Four
//! groups carry ≈ 66 bits: making two certificates whose codes collide takes ≈ 2^66 key
//! generations. The web client computes the same code (web/static) with SubtleCrypto.

/// Groups of five digits in a safety code.
pub const SAFETY_CODE_GROUPS: usize = 4;

/// Domain separation prefix of the hashed input (versioned: a change of the scheme changes it).
const DOMAIN: &[u8] = b"peerchat-safety-code-v1";

/// Why a safety code cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafetyCodeError {
    /// An SDP has no `a=fingerprint` line (it cannot have set up DTLS).
    #[error("the {side} SDP has no a=fingerprint line")]
    NoFingerprint {
        /// `local` or `remote`.
        side: &'static str,
    },
}

/// The normalized `a=fingerprint` values of an SDP (session and media level, deduplicated,
/// sorted): `sha-256 AB:CD:…`.
pub fn sdp_fingerprints(sdp: &str) -> Vec<String> {
    let mut out: Vec<String> = sdp
        .lines()
        .filter_map(|l| l.trim().strip_prefix("a=fingerprint:"))
        .filter_map(|v| {
            let (alg, hex) = v.trim().split_once(' ')?;
            Some(format!(
                "{} {}",
                alg.trim().to_ascii_lowercase(),
                hex.trim().to_ascii_uppercase()
            ))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The safety code of a peer connection from its local and remote SDP (either order gives
/// the same code). Errors: [`SafetyCodeError::NoFingerprint`].
pub fn safety_code(local_sdp: &str, remote_sdp: &str) -> Result<String, SafetyCodeError> {
    let local = sdp_fingerprints(local_sdp);
    if local.is_empty() {
        return Err(SafetyCodeError::NoFingerprint { side: "local" });
    }
    let remote = sdp_fingerprints(remote_sdp);
    if remote.is_empty() {
        return Err(SafetyCodeError::NoFingerprint { side: "remote" });
    }
    Ok(code_of(&local.join("\n"), &remote.join("\n")))
}

/// The code of two fingerprint sets, each already normalized and joined by `\n`.
fn code_of(a: &str, b: &str) -> String {
    let (first, second) = if a.as_bytes() <= b.as_bytes() {
        (a, b)
    } else {
        (b, a)
    };
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(DOMAIN);
    ctx.update(&[0]);
    ctx.update(first.as_bytes());
    ctx.update(&[0]);
    ctx.update(second.as_bytes());
    let digest = ctx.finish();
    digest.as_ref()[..SAFETY_CODE_GROUPS * 5]
        .chunks(5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "v=0\r\na=fingerprint:sha-256 aa:bb:cc\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    const B: &str = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:SHA-256 11:22:33\r\n";
    const M: &str = "v=0\r\na=fingerprint:sha-256 99:99:99\r\n";

    #[test]
    fn both_sides_see_the_same_code() {
        let code = safety_code(A, B).unwrap();
        assert_eq!(code, safety_code(B, A).unwrap());
        assert_eq!(code.len(), SAFETY_CODE_GROUPS * 6 - 1);
        assert!(
            code.split(' ')
                .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit()))
        );
    }

    #[test]
    fn an_intruder_in_the_middle_changes_both_codes() {
        // Ada talks to the intruder's certificate, Bob too: neither code matches the real one.
        let real = safety_code(A, B).unwrap();
        let ada_sees = safety_code(A, M).unwrap();
        let bob_sees = safety_code(B, M).unwrap();
        assert_ne!(ada_sees, bob_sees);
        assert_ne!(ada_sees, real);
        assert_ne!(bob_sees, real);
    }

    #[test]
    fn case_and_position_do_not_matter_but_every_byte_does() {
        let upper = A.replace("aa:bb:cc", "AA:BB:CC");
        assert_eq!(safety_code(&upper, B).unwrap(), safety_code(A, B).unwrap());
        let one_bit = A.replace("aa:bb:cc", "aa:bb:cd");
        assert_ne!(
            safety_code(&one_bit, B).unwrap(),
            safety_code(A, B).unwrap()
        );
    }

    #[test]
    fn an_sdp_without_fingerprint_is_a_typed_error() {
        assert_eq!(
            safety_code("v=0\r\n", B),
            Err(SafetyCodeError::NoFingerprint { side: "local" })
        );
        assert_eq!(
            safety_code(A, "v=0\r\n"),
            Err(SafetyCodeError::NoFingerprint { side: "remote" })
        );
    }

    /// A fixed vector, so the web client's implementation can be checked against it.
    #[test]
    fn known_vector() {
        assert_eq!(safety_code(A, B).unwrap(), KNOWN);
    }
    const KNOWN: &str = "33956 73017 21310 38754";
}
