//! cargo-fuzz target `pdf`: see crates/fuzzing (`qrid_fuzzing::pdf`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::pdf(data));
