//! Token formats, credential verification and OAuth protocol logic of Tessera.
//!
//! - [`credential`]: the opaque credential format shared by personal access tokens,
//!   opaque access tokens and generated client secrets (DESIGN.md §4);
//! - [`validator`]: the one bearer-credential check every endpoint uses;
//! - [`usage`]: batched last-use bookkeeping;
//! - [`password`]: argon2id for human passwords;
//! - [`sealing`]: AES-256-GCM under a key derived from the master key, for
//!   private keys at rest;
//! - [`signing`]: instance signing keys, the JWKS and the rotation schedule;
//! - [`keyfile`]: ZITADEL-format key files and registered public keys;
//! - [`assertion`]: JWT-bearer assertions (RFC 7523, RFC 8725);
//! - [`jwt_access_token`]: RS256 JWT access tokens;
//! - [`keyring`]: the signing keys in memory, kept in step with the database;
//! - [`scope`]: scopes with ZITADEL's semantics;
//! - [`claims`]: claims about users by scope;
//! - [`grant`]: the token endpoint's grants.

pub mod assertion;
mod caches;
pub mod claims;
pub mod credential;
pub mod federation;
pub mod grant;
pub mod issue_log;
pub mod jwt_access_token;
pub mod keyfile;
pub mod keyring;
pub mod leaks;
pub mod password;
pub mod resource;
pub mod roles;
pub mod scope;
pub mod sealing;
pub mod signing;
pub mod slots;
pub mod usage;
pub mod validator;
