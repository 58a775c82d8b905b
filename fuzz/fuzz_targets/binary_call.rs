//! libFuzzer entry of [`tessera_fuzz::binary_call`] (fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera_fuzz::binary_call(data));
