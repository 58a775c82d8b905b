//! Token formats, credential verification and OAuth protocol logic of Tessera.
//!
//! Today: the opaque credential format shared by personal access tokens, opaque access
//! tokens and generated client secrets ([`credential`]), and argon2id hashing of human
//! passwords ([`password`]), both per DESIGN.md §4. Later: the JWT profile grant,
//! token introspection and revocation, and the instance signing keys.

pub mod credential;
pub mod password;
