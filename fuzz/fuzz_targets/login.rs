//! cargo-fuzz target `login`: see crates/fuzzing (`qrid_fuzzing::login`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::login(data));
