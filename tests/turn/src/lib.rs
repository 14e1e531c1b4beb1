//! Empty: this crate only holds the `turn` integration test (`tests/turn.rs`).
