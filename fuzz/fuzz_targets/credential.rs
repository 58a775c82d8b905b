//! libFuzzer entry of [`tessera_fuzz::credential`] (fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::credential(data));
