//! Empty: this crate only holds the interop tests (`tests/matrix.rs`, `tests/conformance.rs`)
//! and the stranger peers they drive (`peers/`). See `tests/interop/README.md`.
