//! libFuzzer entry of [`tessera_fuzz::list_query`] (fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::list_query(data));
