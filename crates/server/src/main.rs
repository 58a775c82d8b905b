//! The tessera binary (being wired).
fn main() {}
