//! T12 fuzz target `body`: see `runbrake_fuzz::checks::body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runbrake_fuzz::checks::check_body(data));
