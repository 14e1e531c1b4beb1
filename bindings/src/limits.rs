//! The core's limits, exported as functions (uniffi has no constants) so apps can check input
//! before calling, e.g. cap a text field.

use peerchat_core::{chat, protocol};

/// Largest chat message text, in UTF-8 bytes (the core's `MAX_MESSAGE_BYTES`, 16 384);
/// `send_message` throws `MessageTooLarge` above it.
#[uniffi::export]
pub fn max_message_bytes() -> u32 {
    to_u32(chat::MAX_MESSAGE_BYTES)
}

/// Longest display name, in Unicode scalar values (the core's `MAX_NAME_CHARS`, 32); the
/// `Engine` constructor throws `InvalidName` above it.
#[uniffi::export]
pub fn max_name_chars() -> u32 {
    to_u32(protocol::MAX_NAME_CHARS)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_the_core_constants() {
        assert_eq!(max_message_bytes() as usize, chat::MAX_MESSAGE_BYTES);
        assert_eq!(max_name_chars() as usize, protocol::MAX_NAME_CHARS);
    }
}
