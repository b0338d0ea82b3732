//! T12 fuzz target `core_sequence`: see `runbrake_fuzz::checks::core_sequence`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runbrake_fuzz::checks::check_core_sequence(data));
