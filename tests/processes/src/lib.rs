//! Empty: this crate only holds the `processes` integration test (`tests/processes.rs`).
