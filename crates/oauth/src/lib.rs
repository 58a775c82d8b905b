//! Token formats, credential verification and OAuth protocol logic of Tessera.
//!
//! - [`credential`]: the opaque credential format shared by personal access tokens,
//!   opaque access tokens and generated client secrets (DESIGN.md §4);
//! - [`validator`]: the one bearer-credential check every endpoint uses;
//! - [`usage`]: batched last-use bookkeeping;
//! - [`password`]: argon2id for human passwords.

pub mod credential;
pub mod password;
pub mod usage;
pub mod validator;
