//! cargo-fuzz target `status_list`: see crates/fuzzing (`qrid_fuzzing::status_list`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::status_list(data));
