//! `peerchat history --data-dir DIR [CONVERSATION]`: prints the chats saved on this device.
//!
//! Without CONVERSATION it lists the saved conversations, most recent first, one per line:
//!
//! ```text
//! room ABC-DEF-GHJ (12 messages)
//! login ada with bob (3 messages)
//! ```
//!
//! With CONVERSATION (a room code in any case with or without dashes, or `OWN/PEER` for a
//! chat by login) it prints every saved message of it, oldest first, one per line:
//!
//! ```text
//! 2026-11-22T08:00:00.123Z > Ada: TEXT [delivered]     sent by this device, with its status
//! 2026-11-22T08:00:01.456Z < Bob: TEXT [received]      received (read once marked read)
//! ```
//!
//! Times are the sender's clock, in UTC. Names and texts are escaped as in the chat
//! ([`crate::escape`]): a saved message cannot forge lines or send terminal controls.

use std::path::PathBuf;

use clap::Args;
use peerchat_core::protocol::normalize_room_code;
use peerchat_core::store::{Conversation, HistoryStore, MAX_HISTORY_PAGE, StoredMessage};

use crate::escape::escape;

/// Arguments of `peerchat history`.
#[derive(Args)]
pub struct HistoryArgs {
    /// Directory of the saved chats (the `--data-dir` given to create/join).
    #[arg(long, env = "PEERCHAT_DATA_DIR")]
    data_dir: PathBuf,
    /// A room code, or OWN/PEER for a chat by login. Omitted: list the conversations.
    conversation: Option<String>,
}

/// Errors of `peerchat history`, printed as `error: …`.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] peerchat_core::store::StoreError),
    /// CONVERSATION is neither a room code nor OWN/PEER.
    #[error("not a room code or OWN/PEER login pair: {0}")]
    Conversation(String),
    /// The data directory does not exist (nothing was ever saved there).
    #[error("no saved chats in {0} (the directory does not exist)")]
    NoDirectory(String),
}

/// Runs the command.
pub fn run(args: HistoryArgs) -> Result<(), String> {
    print_history(args).map_err(|e| e.to_string())
}

fn print_history(args: HistoryArgs) -> Result<(), HistoryError> {
    if !args.data_dir.is_dir() {
        return Err(HistoryError::NoDirectory(
            args.data_dir.display().to_string(),
        ));
    }
    let store = HistoryStore::open(&args.data_dir)?;
    let Some(conversation) = args.conversation else {
        for (conversation, count) in store.conversations()? {
            println!("{} ({count} messages)", describe(&conversation));
        }
        return Ok(());
    };
    let conversation = parse_conversation(&conversation)?;
    // Pages come newest first; collect them all, then print oldest first.
    let mut pages: Vec<Vec<StoredMessage>> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.history(&conversation, before.as_deref(), MAX_HISTORY_PAGE)?;
        let first = page.messages.first().map(|m| m.id.clone());
        pages.push(page.messages);
        match (page.has_more, first) {
            (true, Some(id)) => before = Some(id),
            _ => break,
        }
    }
    for message in pages.into_iter().rev().flatten() {
        println!("{}", line(&message));
    }
    Ok(())
}

/// The conversation CONVERSATION names.
fn parse_conversation(text: &str) -> Result<Conversation, HistoryError> {
    if let Some((own, peer)) = text.split_once('/') {
        if own.is_empty() || peer.is_empty() {
            return Err(HistoryError::Conversation(text.to_string()));
        }
        return Ok(Conversation::Login {
            own: own.to_string(),
            peer: peer.to_string(),
        });
    }
    normalize_room_code(text)
        .map(|code| Conversation::Room { code })
        .map_err(|e| HistoryError::Conversation(format!("{text} ({e})")))
}

fn describe(conversation: &Conversation) -> String {
    match conversation {
        Conversation::Room { code } => format!("room {}", escape(code)),
        Conversation::Login { own, peer } => {
            format!("login {} with {}", escape(own), escape(peer))
        }
    }
}

/// One printed message line (see the module docs).
fn line(m: &StoredMessage) -> String {
    let arrow = if m.outgoing { '>' } else { '<' };
    format!(
        "{} {arrow} {}: {} [{}]",
        utc(m.sent_at_ms),
        escape(&m.sender_name),
        escape(&m.text),
        m.status.as_str()
    )
}

/// `ms` since the Unix epoch as RFC 3339 UTC with milliseconds.
fn utc(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| format!("@{ms}ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_795_338_000_123), "2026-11-22T09:00:00.123Z");
    }

    #[test]
    fn conversations_parse() {
        assert_eq!(
            parse_conversation("abcdefghj").unwrap(),
            Conversation::Room {
                code: "ABC-DEF-GHJ".into()
            }
        );
        assert_eq!(
            parse_conversation("ada/bob").unwrap(),
            Conversation::Login {
                own: "ada".into(),
                peer: "bob".into()
            }
        );
        assert!(parse_conversation("/bob").is_err());
        assert!(parse_conversation("nope").is_err());
    }
}
