//! T12 fuzz target `ws_message`: see `runbrake_fuzz::checks::ws_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runbrake_fuzz::checks::check_ws_message(data));
