//! sea-orm entities: one module per table, mirroring the migrations. They are the
//! persistence crate's private business; repositories map them to domain types.

pub mod access_token;
pub mod administrator;
pub mod application;
pub mod application_key;
pub mod audit_event;
pub mod authorization;
pub mod authorization_role;
pub mod console_session;
pub mod credential_notice;
pub mod federated_credential;
pub mod instance;
pub mod machine_key;
pub mod machine_secret;
pub mod organization;
pub mod pat;
pub mod project;
pub mod project_role;
pub mod revoked_jwt;
pub mod signing_key;
pub mod used_jti;
pub mod user;
pub mod user_metadata;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_target;
