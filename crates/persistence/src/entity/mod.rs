//! sea-orm entities: one module per table, mirroring the migrations. They are the
//! persistence crate's private business; repositories map them to domain types.

pub mod administrator;
pub mod audit_event;
pub mod instance;
pub mod organization;
pub mod pat;
pub mod user;
pub mod user_metadata;
