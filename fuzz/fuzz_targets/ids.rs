//! T12 fuzz target `ids`: see `runbrake_fuzz::checks::ids`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runbrake_fuzz::checks::check_ids(data));
