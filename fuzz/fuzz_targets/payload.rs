//! cargo-fuzz target `payload`: see crates/fuzzing (`qrid_fuzzing::payload`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::payload(data));
