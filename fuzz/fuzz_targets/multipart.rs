//! cargo-fuzz target `multipart`: see crates/fuzzing (`qrid_fuzzing::multipart`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::multipart(data));
