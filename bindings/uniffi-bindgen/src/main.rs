//! `uniffi-bindgen`: generates the Kotlin and Swift sources of `peerchat-ffi`.
//!
//! Run in library mode from the workspace, e.g.
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libpeerchat_ffi.so
//! --language kotlin --out-dir bindings/kotlin/generated` (`bindings/generate.sh` does this for
//! both languages).

fn main() {
    uniffi::uniffi_bindgen_main()
}
