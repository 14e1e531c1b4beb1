//! The history database's schema, as migrations applied in order (`rusqlite_migration`,
//! which records the applied count in SQLite's `PRAGMA user_version`).
//!
//! Never edit a migration that has shipped: append a new one. A database written by a newer
//! engine (a `user_version` above [`MIGRATIONS`]' length) is refused with
//! [`StoreError::Migration`](super::StoreError::Migration) rather than misread.

use rusqlite_migration::{M, Migrations};

/// Migration 1: messages and per-peer receipts.
///
/// - `messages`: one row per message sent or received in a conversation. `(conversation, id)`
///   is unique: a message id is the sender's UUID v7, so a resend, a duplicate or a message
///   that arrives again through history sync is the same row. History is ordered by
///   `(sent_at_ms, id)`: the sender's clock, then the id (a UUID v7 starts with the same
///   millisecond timestamp, so the id breaks ties in sending order).
/// - `receipts`: the status of an outgoing message at each receiving peer, keyed by the peer's
///   stable id as the engine knows it.
const V1: &str = "
CREATE TABLE messages (
    conversation   TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    outgoing       INTEGER NOT NULL CHECK (outgoing IN (0, 1)),
    sender_peer_id TEXT    NOT NULL,
    sender_name    TEXT    NOT NULL,
    text           TEXT    NOT NULL,
    sent_at_ms     INTEGER NOT NULL,
    stored_at_ms   INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    PRIMARY KEY (conversation, id)
) WITHOUT ROWID;
CREATE INDEX messages_by_time ON messages (conversation, sent_at_ms, id);
CREATE TABLE receipts (
    conversation  TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    peer_id       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (conversation, message_id, peer_id),
    FOREIGN KEY (conversation, message_id) REFERENCES messages (conversation, id)
        ON DELETE CASCADE
) WITHOUT ROWID;
";

/// Every migration, oldest first.
pub(super) static MIGRATIONS: &[M<'static>] = &[M::up(V1)];

/// The migrations as `rusqlite_migration` applies them.
pub(super) fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().expect("valid migrations");
    }
}
