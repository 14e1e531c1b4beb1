//! Chat protocol

/// Largest chat message text, in UTF-8 bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
