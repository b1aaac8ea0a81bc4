//! cargo-fuzz target `image`: see crates/fuzzing (`qrid_fuzzing::image`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| qrid_fuzzing::image(data));
