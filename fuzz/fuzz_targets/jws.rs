//! cargo-fuzz target `jws`: see crates/fuzzing (`qrid_fuzzing::jws`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::jws(data));
