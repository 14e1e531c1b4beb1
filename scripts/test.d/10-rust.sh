#!/usr/bin/env bash
# Rust workspace: formatting, lints as errors, every test.
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
