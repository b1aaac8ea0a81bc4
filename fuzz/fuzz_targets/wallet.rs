//! cargo-fuzz target `wallet`: see crates/fuzzing (`qrid_fuzzing::wallet`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::wallet(data));
