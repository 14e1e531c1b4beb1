//! Resource limits that protect the server itself: connections per IP and in all
//! ([`ip_cap`]), the file-descriptor limit ([`nofile`]), and log lines ([`log_limit`]).

pub mod clients;
pub mod guess;
pub mod ip_cap;
pub mod log_limit;
pub mod nofile;
