//! Tessera's domain: entities, value types and their invariants, the permission
//! model, and the repository traits (ports) that the persistence layer implements.
//!
//! Nothing here performs I/O or knows about SQL or HTTP (DESIGN.md §1). Time is
//! read through [`time::Clock`] so tests can freeze it.

pub mod access_token;
pub mod admin;
pub mod application;
pub mod audit;
pub mod authorization;
pub mod cache;
pub mod console_session;
pub mod error;
pub mod federation;
pub mod id;
pub mod instance;
pub mod machine_key;
pub mod machine_secret;
pub mod names;
pub mod org;
pub mod pat;
pub mod permission;
pub mod project;
pub mod repo;
pub mod rng;
pub mod signing_key;
pub mod time;
pub mod token_scope;
pub mod user;
pub mod webhook;

pub use error::ValidationError;
pub use id::{
    AccessTokenId, AdministratorId, AuditEventId, ConsoleSessionId, InstanceId, KeyId, OrgId, PatId, ProjectId,
    SecretId, SigningKeyId, UserId,
};
pub use id::{AppKeyId, ApplicationId, AuthorizationId, DeliveryId, FederatedCredentialId, WebhookId};
pub use rng::Rng;
pub use time::{Clock, SystemClock, Timestamp};
