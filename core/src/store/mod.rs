//! Saved chats, on the device only: every message sent and received, with its status, in a
//! SQLite database (the `rusqlite` crate with SQLite compiled in) under the directory the app
//! gives in [`EngineConfig::data_dir`](crate::EngineConfig::data_dir). Nothing of it goes to
//! the signaling server; peers fill each other's gaps over the data channel ([`sync`]).
//!
//! - [`HistoryStore`]: the database itself, synchronous, one connection. Tests and the CLI's
//!   `peerchat history` use it directly.
//! - [`StoreHandle`](handle::StoreHandle): the engine's access, a dedicated thread that owns a
//!   [`HistoryStore`] behind a bounded queue ([`STORE_QUEUE_LEN`]), so no SQLite call ever
//!   runs on the engine's async threads or on the app's UI thread.
//!
//! The file is `<data_dir>/peerchat-history.sqlite3` ([`DATABASE_FILE`]), in WAL mode with
//! `synchronous = NORMAL` (a committed message survives an app crash; a power loss may lose
//! the last few commits, SQLite's documented trade-off for WAL). Per platform the app passes:
//! Android `Context.getFilesDir()`, iOS the Application Support directory (excluded from
//! iCloud backup by the app if it wishes), desktop any directory.

pub mod handle;
mod schema;
pub mod sync;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "peerchat-history.sqlite3";

/// Largest page [`HistoryStore::history`] returns; a larger `limit` is clamped to it.
pub const MAX_HISTORY_PAGE: u32 = 500;

/// A store failure the engine meets by itself (a write) is reported to the app
/// (`EngineListener::on_error` with `EngineError::Store`) at most once per this many ms for
/// the same reason: a full disk fails every write, and the app hears it once, not once per
/// message. Every failure is logged (`tracing`, `warn`).
pub const STORE_ERROR_REPORT_INTERVAL_MS: u64 = 10_000;

/// Bound of the queue in front of the store's thread (requests). A full queue makes the
/// engine's writer wait (backpressure on the actor), never drops a write.
pub const STORE_QUEUE_LEN: usize = 1_024;

/// A conversation whose messages are saved together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// A room, by its normalized code (`ABC-DEF-GHJ`). A room recreated later under the same
    /// code (issue 8's `rejoin_room`) continues the same conversation.
    Room {
        /// The room code.
        code: String,
    },
    /// A chat by login between this user's login and another's, as the server showed them.
    Login {
        /// This user's login.
        own: String,
        /// The other user's login.
        peer: String,
    },
}

/// Separates the parts of a login conversation's key: a control character, which logins
/// cannot contain (`validate_name` refuses control characters).
const KEY_SEPARATOR: char = '\u{1f}';

impl Conversation {
    /// The key stored in the database: `room:<code>` or `login:<own>␟<peer>`.
    pub fn key(&self) -> String {
        match self {
            Conversation::Room { code } => format!("room:{code}"),
            Conversation::Login { own, peer } => format!("login:{own}{KEY_SEPARATOR}{peer}"),
        }
    }

    /// The conversation a [`Conversation::key`] names. Errors:
    /// [`StoreError::InvalidConversation`] for any other text.
    pub fn from_key(key: &str) -> Result<Self, StoreError> {
        if let Some(code) = key.strip_prefix("room:") {
            return Ok(Conversation::Room {
                code: code.to_string(),
            });
        }
        if let Some(rest) = key.strip_prefix("login:")
            && let Some((own, peer)) = rest.split_once(KEY_SEPARATOR)
        {
            return Ok(Conversation::Login {
                own: own.to_string(),
                peer: peer.to_string(),
            });
        }
        Err(StoreError::InvalidConversation {
            key: key.to_string(),
        })
    }
}

/// Status of a saved message. Outgoing messages go `Pending` → `Sent` → `Delivered` → `Read`,
/// or end `Failed`; incoming ones are `Received`, then `Read` once the app marks them read.
/// A status never moves backwards ([`StoredStatus::rank`]): a late `Sent` after `Delivered` is
/// ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoredStatus {
    /// Outgoing, not yet handed to any data channel (waiting in the outbox).
    Pending,
    /// Outgoing, handed to the data channel.
    Sent,
    /// Outgoing, acknowledged by the peer.
    Delivered,
    /// Outgoing: the peer read it; incoming: this user read it.
    Read,
    /// Outgoing, given up (the peer left for good, or the message's time to live ran out).
    Failed,
    /// Incoming.
    Received,
}

impl StoredStatus {
    /// Text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredStatus::Pending => "pending",
            StoredStatus::Sent => "sent",
            StoredStatus::Delivered => "delivered",
            StoredStatus::Read => "read",
            StoredStatus::Failed => "failed",
            StoredStatus::Received => "received",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => StoredStatus::Pending,
            "sent" => StoredStatus::Sent,
            "delivered" => StoredStatus::Delivered,
            "read" => StoredStatus::Read,
            "failed" => StoredStatus::Failed,
            "received" => StoredStatus::Received,
            other => {
                return Err(StoreError::Corrupt {
                    reason: format!("unknown status {other:?}"),
                });
            }
        })
    }

    /// Order of progress: a status only replaces one of a lower rank. `Failed` ranks above
    /// `Sent` but below `Delivered`: an ack that arrives after a give-up still counts.
    pub fn rank(self) -> u8 {
        match self {
            StoredStatus::Pending => 0,
            StoredStatus::Received => 0,
            StoredStatus::Sent => 1,
            StoredStatus::Failed => 2,
            StoredStatus::Delivered => 3,
            StoredStatus::Read => 4,
        }
    }
}

/// One saved message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The sender's id for it (UUID v7 text).
    pub id: String,
    /// Whether this device sent it.
    pub outgoing: bool,
    /// The sender's peer id as the engine knew it (this engine's own for outgoing ones).
    pub sender_peer_id: String,
    /// The sender's display name as the signaling server showed it.
    pub sender_name: String,
    /// The text.
    pub text: String,
    /// The sender's clock when sent, ms since the Unix epoch.
    pub sent_at_ms: u64,
    /// This device's clock when it was saved, ms since the Unix epoch.
    pub stored_at_ms: u64,
    /// Overall status: for an outgoing message to several peers, the least advanced status
    /// among them (see [`HistoryStore::set_receipt`]).
    pub status: StoredStatus,
}

/// One page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// At most the requested number of messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Whether older messages exist before the first one here (ask again with its id as
    /// `before`).
    pub has_more: bool,
}

/// Why a history operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The data directory or the database file could not be created or opened.
    #[error("cannot open the history database at {path}: {reason}")]
    Open {
        /// The database path.
        path: String,
        /// The operating system's or SQLite's reason.
        reason: String,
    },
    /// The database's schema is newer than this engine, or a migration failed.
    #[error("cannot migrate the history database: {reason}")]
    Migration {
        /// `rusqlite_migration`'s reason.
        reason: String,
    },
    /// A query failed (disk full, I/O error, database locked by another process).
    #[error("history database error: {reason}")]
    Database {
        /// SQLite's reason.
        reason: String,
    },
    /// A stored value cannot be read back.
    #[error("history database is corrupt: {reason}")]
    Corrupt {
        /// What was wrong.
        reason: String,
    },
    /// Not a conversation key ([`Conversation::key`]).
    #[error("not a conversation key: {key:?}")]
    InvalidConversation {
        /// The text given.
        key: String,
    },
    /// `before` names a message that is not in the conversation.
    #[error("no message {id:?} in this conversation")]
    UnknownMessage {
        /// The id given.
        id: String,
    },
    /// The store's thread has stopped (the engine shut down).
    #[error("the history store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database {
            reason: e.to_string(),
        }
    }
}

/// Milliseconds since the Unix epoch by this device's clock.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The history database: one SQLite connection. Not `Sync`; the engine reaches it through
/// [`handle::StoreHandle`].
pub struct HistoryStore {
    conn: Connection,
}

impl HistoryStore {
    /// Opens (creating if needed) `<dir>/`[`DATABASE_FILE`], creating `dir` too, and applies
    /// the pending migrations. Errors: [`StoreError::Open`], [`StoreError::Migration`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path: PathBuf = dir.join(DATABASE_FILE);
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        let conn = Connection::open(&path).map_err(|e| open_error(e.to_string()))?;
        // WAL: readers never block the writer; NORMAL: no fsync per commit in WAL mode.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_error(e.to_string()))?;
        Self::prepare(conn)
    }

    /// A database in memory, gone when dropped (an engine without `data_dir`, and tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Open {
            path: ":memory:".into(),
            reason: e.to_string(),
        })?;
        Self::prepare(conn)
    }

    fn prepare(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Another process holding the file (a second engine on the same directory) makes
        // writes wait up to this long before failing with `Database`.
        conn.busy_timeout(std::time::Duration::from_millis(2_000))?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration {
                reason: e.to_string(),
            })?;
        Ok(Self { conn })
    }

    /// Saves a message. Saving one whose `(conversation, id)` is already there changes nothing
    /// and returns `false` (a duplicate: a resend, or a message that came again through
    /// history sync); a new one returns `true`. Errors: [`StoreError::Database`].
    pub fn insert(
        &self,
        conversation: &Conversation,
        m: &StoredMessage,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO messages (conversation, id, outgoing, sender_peer_id,
                sender_name, text, sent_at_ms, stored_at_ms, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                conversation.key(),
                m.id,
                m.outgoing,
                m.sender_peer_id,
                m.sender_name,
                m.text,
                m.sent_at_ms as i64,
                m.stored_at_ms as i64,
                m.status.as_str(),
            ])?;
        Ok(n == 1)
    }

    /// Records the status of outgoing message `id` at peer `peer_id`, unless that peer's
    /// status is already at least as advanced ([`StoredStatus::rank`]), and recomputes the
    /// message's overall status: the least advanced among its peers. Returns the overall
    /// status after the change, `None` if no outgoing message has that id (a receipt for a
    /// received message, which a peer could send, changes nothing). Errors:
    /// [`StoreError::Database`].
    pub fn set_receipt(
        &mut self,
        conversation: &Conversation,
        id: &str,
        peer_id: &str,
        status: StoredStatus,
    ) -> Result<Option<StoredStatus>, StoreError> {
        let key = conversation.key();
        // A savepoint, not a transaction: it nests inside the store thread's batch
        // transaction (`handle.rs`) and is a transaction of its own outside one.
        let tx = self.conn.savepoint()?;
        // The message's overall status and this peer's receipt, in one query.
        let found: Option<(String, Option<String>)> = tx
            .prepare_cached(
                "SELECT m.status, r.status FROM messages m
                 LEFT JOIN receipts r ON r.conversation = m.conversation
                     AND r.message_id = m.id AND r.peer_id = ?3
                 WHERE m.conversation = ?1 AND m.id = ?2 AND m.outgoing = 1",
            )?
            .query_row(params![key, id, peer_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((stored, current)) = found else {
            return Ok(None);
        };
        let stored = StoredStatus::parse(&stored)?;
        let advance = match current {
            Some(s) => StoredStatus::parse(&s)?.rank() < status.rank(),
            None => true,
        };
        if !advance {
            // Nothing changes (a repeated or late report).
            return Ok(Some(stored));
        }
        tx.prepare_cached(
            "INSERT OR REPLACE INTO receipts
                 (conversation, message_id, peer_id, status, updated_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![key, id, peer_id, status.as_str(), now_ms() as i64])?;
        let mut overall: Option<StoredStatus> = None;
        {
            let mut stmt = tx.prepare_cached(
                "SELECT status FROM receipts WHERE conversation = ?1 AND message_id = ?2",
            )?;
            let rows = stmt.query_map(params![key, id], |r| r.get::<_, String>(0))?;
            for row in rows {
                let s = StoredStatus::parse(&row?)?;
                overall = Some(match overall {
                    Some(o) if o.rank() <= s.rank() => o,
                    _ => s,
                });
            }
        }
        let overall = overall.unwrap_or(status);
        if overall != stored {
            tx.prepare_cached(
                "UPDATE messages SET status = ?3 WHERE conversation = ?1 AND id = ?2",
            )?
            .execute(params![key, id, overall.as_str()])?;
        }
        tx.commit()?;
        Ok(Some(overall))
    }

    /// Sets the status of a message as a whole (an incoming message marked `Read`, an outgoing
    /// one that never reached any peer marked `Failed`), unless it is already at least as
    /// advanced. Returns whether it changed. Errors: [`StoreError::Database`].
    pub fn set_status(
        &self,
        conversation: &Conversation,
        id: &str,
        status: StoredStatus,
    ) -> Result<bool, StoreError> {
        let key = conversation.key();
        let current: Option<String> = self
            .conn
            .query_row(
                "SELECT status FROM messages WHERE conversation = ?1 AND id = ?2",
                params![key, id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(current) = current else {
            return Ok(false);
        };
        if StoredStatus::parse(&current)?.rank() >= status.rank() {
            return Ok(false);
        }
        self.conn.execute(
            "UPDATE messages SET status = ?3 WHERE conversation = ?1 AND id = ?2",
            params![key, id, status.as_str()],
        )?;
        Ok(true)
    }

    /// One page of a conversation's history: the `limit` newest messages older than message
    /// `before` (or the newest of all when `None`), returned oldest first, in `(sent_at_ms,
    /// id)` order. `limit` is clamped to 1..=[`MAX_HISTORY_PAGE`]. Errors:
    /// [`StoreError::UnknownMessage`] if `before` is not in the conversation,
    /// [`StoreError::Database`], [`StoreError::Corrupt`].
    pub fn history(
        &self,
        conversation: &Conversation,
        before: Option<&str>,
        limit: u32,
    ) -> Result<HistoryPage, StoreError> {
        let key = conversation.key();
        let limit = limit.clamp(1, MAX_HISTORY_PAGE) as i64;
        // (sent_at_ms, id) of the cursor; i64::MAX and "" select everything.
        let (cursor_ms, cursor_id) = match before {
            None => (i64::MAX, String::new()),
            Some(id) => self
                .conn
                .query_row(
                    "SELECT sent_at_ms, id FROM messages WHERE conversation = ?1 AND id = ?2",
                    params![key, id],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::UnknownMessage { id: id.to_string() })?,
        };
        let mut stmt = self.conn.prepare(
            "SELECT id, outgoing, sender_peer_id, sender_name, text, sent_at_ms, stored_at_ms,
                    status
             FROM messages
             WHERE conversation = ?1
               AND (sent_at_ms < ?2 OR (sent_at_ms = ?2 AND (?3 = '' OR id < ?3)))
             ORDER BY sent_at_ms DESC, id DESC
             LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![key, cursor_ms, cursor_id, limit + 1], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut messages = Vec::new();
        for row in rows {
            let (id, outgoing, sender_peer_id, sender_name, text, sent, stored, status) = row?;
            messages.push(StoredMessage {
                id,
                outgoing,
                sender_peer_id,
                sender_name,
                text,
                sent_at_ms: sent.max(0) as u64,
                stored_at_ms: stored.max(0) as u64,
                status: StoredStatus::parse(&status)?,
            });
        }
        let has_more = messages.len() as i64 > limit;
        messages.truncate(limit as usize);
        messages.reverse();
        Ok(HistoryPage { messages, has_more })
    }

    /// Ids of the `limit` newest messages of the conversation, newest first (what history
    /// sync tells a peer it has: [`sync::request_ids`]).
    pub fn latest_ids(
        &self,
        conversation: &Conversation,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM messages WHERE conversation = ?1
             ORDER BY sent_at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![conversation.key(), limit as i64], |r| r.get(0))?;
        rows.collect::<Result<Vec<String>, _>>().map_err(Into::into)
    }

    /// This device's own messages in the conversation, oldest first, sent after its own
    /// message `after` (all of them when `None` or when `after` is unknown), at most the
    /// `limit` newest of those (what history sync answers: [`sync::plan_reply`]).
    pub fn own_messages_after(
        &self,
        conversation: &Conversation,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let key = conversation.key();
        let cursor = match after {
            None => None,
            Some(id) => self
                .conn
                .query_row(
                    "SELECT sent_at_ms, id FROM messages
                     WHERE conversation = ?1 AND id = ?2 AND outgoing = 1",
                    params![key, id],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?,
        };
        let (ms, id) = cursor.unwrap_or((i64::MIN, String::new()));
        let mut stmt = self.conn.prepare(
            "SELECT id, sender_peer_id, sender_name, text, sent_at_ms, stored_at_ms, status
             FROM messages
             WHERE conversation = ?1 AND outgoing = 1
               AND (sent_at_ms > ?2 OR (sent_at_ms = ?2 AND id > ?3))
             ORDER BY sent_at_ms DESC, id DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![key, ms, id, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sender_peer_id, sender_name, text, sent, stored, status) = row?;
            out.push(StoredMessage {
                id,
                outgoing: true,
                sender_peer_id,
                sender_name,
                text,
                sent_at_ms: sent.max(0) as u64,
                stored_at_ms: stored.max(0) as u64,
                status: StoredStatus::parse(&status)?,
            });
        }
        out.reverse();
        Ok(out)
    }

    /// This device's messages of the conversation that no peer has acknowledged and that
    /// were not given up (status `Pending` or `Sent`), oldest first, at most the `limit`
    /// oldest: the persisted outbox the engine sends again when it re-enters the room.
    /// Errors: [`StoreError::Database`], [`StoreError::Corrupt`].
    pub fn unacknowledged(
        &self,
        conversation: &Conversation,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, sender_peer_id, sender_name, text, sent_at_ms, stored_at_ms, status
             FROM messages
             WHERE conversation = ?1 AND outgoing = 1 AND status IN ('pending', 'sent')
             ORDER BY sent_at_ms ASC, id ASC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![conversation.key(), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sender_peer_id, sender_name, text, sent, stored, status) = row?;
            out.push(StoredMessage {
                id,
                outgoing: true,
                sender_peer_id,
                sender_name,
                text,
                sent_at_ms: sent.max(0) as u64,
                stored_at_ms: stored.max(0) as u64,
                status: StoredStatus::parse(&status)?,
            });
        }
        Ok(out)
    }

    /// Forgets the per-peer receipts of outgoing message `id` and sets its status back to
    /// `Pending`: it is about to be sent again to the peers of a new session (whose peer ids
    /// differ from the old ones), so only their receipts count from now on. Errors:
    /// [`StoreError::Database`].
    pub fn restart_receipts(
        &mut self,
        conversation: &Conversation,
        id: &str,
    ) -> Result<(), StoreError> {
        let key = conversation.key();
        let tx = self.conn.savepoint()?;
        tx.execute(
            "DELETE FROM receipts WHERE conversation = ?1 AND message_id = ?2",
            params![key, id],
        )?;
        tx.execute(
            "UPDATE messages SET status = 'pending'
             WHERE conversation = ?1 AND id = ?2 AND outgoing = 1",
            params![key, id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every conversation with at least one saved message, by key, most recent first, with
    /// its message count.
    pub fn conversations(&self) -> Result<Vec<(Conversation, u64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT conversation, COUNT(*), MAX(sent_at_ms) AS last FROM messages
             GROUP BY conversation ORDER BY last DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, n) = row?;
            out.push((Conversation::from_key(&key)?, n.max(0) as u64));
        }
        Ok(out)
    }

    /// Deletes every message and receipt of the conversation; returns how many messages were
    /// deleted. Errors: [`StoreError::Database`].
    pub fn delete_conversation(&self, conversation: &Conversation) -> Result<u64, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM messages WHERE conversation = ?1",
            params![conversation.key()],
        )?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests;
