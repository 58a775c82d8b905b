//! Typed identifiers. Every entity id is a UUIDv7 (time-ordered, so inserts stay
//! local in B-tree indexes) wrapped in its own type so a user id can never be passed
//! where an organization id is expected. On the wire ids are strings.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ValidationError;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// A fresh, time-ordered id from an injected clock reading and
            /// randomness (the use cases' ids: tests seed both).
            #[must_use]
            pub fn generate(now: crate::Timestamp, rng: &dyn crate::Rng) -> Self {
                Self(crate::rng::uuid_v7(now, rng))
            }

            /// Wraps an id read back from storage.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the wire form (a UUID in any of its textual spellings).
            ///
            /// # Errors
            /// When `s` is not a UUID.
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                Uuid::try_parse(s.trim())
                    .map(Self)
                    .map_err(|_| ValidationError::new($field, "is not a valid id"))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

define_id!(
    /// The instance: the root of everything one Tessera deployment holds.
    InstanceId, "instanceId");
define_id!(
    /// An organization.
    OrgId, "organizationId");
define_id!(
    /// A user, machine or human.
    UserId, "userId");
define_id!(
    /// A personal access token (also its embedded lookup id).
    PatId, "tokenId");
define_id!(
    /// An administrator membership (a user's roles on one resource).
    AdministratorId, "administratorId");
define_id!(
    /// An audit event.
    AuditEventId, "eventId");
define_id!(
    /// A project: the resource servers' unit of roles and API applications.
    ProjectId, "projectId");
define_id!(
    /// A machine key: a public key registered for a machine user's JWT Profile
    /// assertions (also the `keyId` of its key file and the `kid` of assertions).
    KeyId, "keyId");
define_id!(
    /// A client secret of a machine user (also the secret's embedded lookup id).
    SecretId, "secretId");
define_id!(
    /// An instance signing key; its text form is the `kid` of every JWT it signs.
    SigningKeyId, "kid");
define_id!(
    /// An opaque access token (also the token's embedded lookup id).
    AccessTokenId, "accessTokenId");
define_id!(
    /// A console login session (also the session cookie's embedded lookup id).
    ConsoleSessionId, "sessionId");
define_id!(
    /// An application of a project (also its default client id).
    ApplicationId, "applicationId");
define_id!(
    /// A public key of an API application (the `keyId` of its key file).
    AppKeyId, "keyId");
define_id!(
    /// An authorization (ZITADEL's user grant): a user's roles on a project.
    AuthorizationId, "id");
define_id!(
    /// A federated credential of a machine user (`crate::federation`).
    FederatedCredentialId, "credentialId");
define_id!(
    /// A webhook target (`crate::webhook`).
    WebhookId, "webhookId");
define_id!(
    /// One event's delivery to one webhook target; its `msg_` form is the
    /// `webhook-id` header, the same on every attempt.
    DeliveryId, "deliveryId");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_wire_form() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn rejects_garbage_and_names_the_field() {
        let err = UserId::parse("not-an-id").unwrap_err();
        assert_eq!(err.field, "userId");
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let a = OrgId::new();
        let b = OrgId::new();
        assert!(a < b);
    }
}
