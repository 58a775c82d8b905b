//! Users: machine users (service accounts, the point of Tessera) and human users
//! (administrators who use the console).

use std::fmt;

use crate::names::{Description, DisplayName, Email, Username};
use crate::{OrgId, Timestamp, UserId, ValidationError};

/// Life-cycle state of a user. Every state but `Active` suspends all of the
/// user's credentials (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserState {
    /// May authenticate.
    Active,
    /// Deactivated by an administrator; reversible with reactivate.
    Inactive,
    /// Locked by an administrator; reversible with unlock.
    Locked,
}

impl UserState {
    /// Storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Locked => "locked",
        }
    }

    /// Parses the storage spelling.
    ///
    /// # Errors
    /// On an unknown spelling (a corrupted row).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "locked" => Ok(Self::Locked),
            _ => Err(ValidationError::new("state", "unknown user state")),
        }
    }
}

/// What the token endpoint issues to a machine user (ZITADEL's
/// `ACCESS_TOKEN_TYPE_BEARER` and `ACCESS_TOKEN_TYPE_JWT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AccessTokenType {
    /// Opaque `tsr_at_` tokens, checked by introspection.
    #[default]
    Bearer,
    /// RS256-signed JWTs, verifiable against the JWKS.
    Jwt,
}

impl AccessTokenType {
    /// Storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Jwt => "jwt",
        }
    }

    /// Parses the storage spelling.
    ///
    /// # Errors
    /// On an unknown spelling (a corrupted row).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "bearer" => Ok(Self::Bearer),
            "jwt" => Ok(Self::Jwt),
            _ => Err(ValidationError::new("accessTokenType", "unknown access token type")),
        }
    }
}

/// The machine-specific part of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Display name.
    pub name: DisplayName,
    /// What the account is for.
    pub description: Description,
    /// What the token endpoint issues.
    pub access_token_type: AccessTokenType,
}

/// An argon2id hash in PHC string format. Not a secret in itself, but never
/// printed either: it is an offline-attack target.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string produced by the password hasher or read from storage.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for verification and storage.
    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// The human-specific part of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Human {
    /// Given name.
    pub given_name: DisplayName,
    /// Family name.
    pub family_name: DisplayName,
    /// Name shown in the console; defaults to "given family".
    pub display_name: DisplayName,
    /// Contact address.
    pub email: Email,
    /// Whether the address was verified (set by administrators; Tessera sends no mail).
    pub email_verified: bool,
    /// Console password, if one is set.
    pub password_hash: Option<PasswordHash>,
}

/// Machine or human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKind {
    /// A service account.
    Machine(Machine),
    /// A person.
    Human(Human),
}

/// A user of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// The organization that owns the user (ZITADEL's resource owner).
    pub org_id: OrgId,
    /// Login name, unique within the organization.
    pub username: Username,
    /// Life-cycle state.
    pub state: UserState,
    /// Machine or human data.
    pub kind: UserKind,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl User {
    /// A new, active machine user.
    #[must_use]
    pub fn new_machine(org_id: OrgId, username: Username, machine: Machine, now: Timestamp) -> Self {
        Self::new(org_id, username, UserKind::Machine(machine), now)
    }

    /// A new, active human user.
    #[must_use]
    pub fn new_human(org_id: OrgId, username: Username, human: Human, now: Timestamp) -> Self {
        Self::new(org_id, username, UserKind::Human(human), now)
    }

    fn new(org_id: OrgId, username: Username, kind: UserKind, now: Timestamp) -> Self {
        Self { id: UserId::new(), org_id, username, state: UserState::Active, kind, created_at: now, updated_at: now }
    }

    /// The machine part, if this is a machine user.
    #[must_use]
    pub fn machine(&self) -> Option<&Machine> {
        match &self.kind {
            UserKind::Machine(m) => Some(m),
            UserKind::Human(_) => None,
        }
    }

    /// The human part, if this is a human user.
    #[must_use]
    pub fn human(&self) -> Option<&Human> {
        match &self.kind {
            UserKind::Human(h) => Some(h),
            UserKind::Machine(_) => None,
        }
    }

    /// Whether this is a machine user.
    #[must_use]
    pub fn is_machine(&self) -> bool {
        matches!(self.kind, UserKind::Machine(_))
    }

    /// Applies a state change by ZITADEL's rules: deactivate from active or
    /// locked; reactivate only from inactive; lock only from active; unlock only
    /// from locked.
    ///
    /// # Errors
    /// When the user is not in a state the change applies to; the user is left
    /// unchanged.
    pub fn transition(&mut self, change: StateChange, now: Timestamp) -> Result<(), TransitionError> {
        use StateChange as C;
        use UserState as S;
        let next = match (change, self.state) {
            (C::Deactivate, S::Inactive) => return Err(TransitionError("the user is already inactive")),
            (C::Deactivate, S::Active | S::Locked) => S::Inactive,
            (C::Reactivate, S::Inactive) => S::Active,
            (C::Reactivate, _) => return Err(TransitionError("the user is not inactive")),
            (C::Lock, S::Active) => S::Locked,
            (C::Lock, _) => return Err(TransitionError("only an active user can be locked")),
            (C::Unlock, S::Locked) => S::Active,
            (C::Unlock, _) => return Err(TransitionError("the user is not locked")),
        };
        self.state = next;
        self.updated_at = now;
        Ok(())
    }
}

/// An administrator's change of a user's life-cycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    /// Suspend until reactivated.
    Deactivate,
    /// Undo a deactivation.
    Reactivate,
    /// Suspend until unlocked.
    Lock,
    /// Undo a lock.
    Unlock,
}

impl StateChange {
    /// Audit spelling, e.g. `user.deactivated`.
    #[must_use]
    pub const fn audit_action(self) -> &'static str {
        match self {
            Self::Deactivate => "user.deactivated",
            Self::Reactivate => "user.reactivated",
            Self::Lock => "user.locked",
            Self::Unlock => "user.unlocked",
        }
    }
}

/// A state change that does not apply to the user's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransitionError(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemClock;
    use crate::time::Clock;

    fn user(state: UserState) -> User {
        let mut u = User::new_machine(
            OrgId::new(),
            Username::parse("bot").unwrap(),
            Machine {
                name: DisplayName::parse("name", "bot").unwrap(),
                description: Description::empty(),
                access_token_type: AccessTokenType::Bearer,
            },
            SystemClock.now(),
        );
        u.state = state;
        u
    }

    #[test]
    fn transitions_follow_zitadels_rules() {
        use StateChange as C;
        use UserState as S;
        let cases = [
            (C::Deactivate, S::Active, Some(S::Inactive)),
            (C::Deactivate, S::Locked, Some(S::Inactive)),
            (C::Deactivate, S::Inactive, None),
            (C::Reactivate, S::Inactive, Some(S::Active)),
            (C::Reactivate, S::Active, None),
            (C::Reactivate, S::Locked, None),
            (C::Lock, S::Active, Some(S::Locked)),
            (C::Lock, S::Locked, None),
            (C::Lock, S::Inactive, None),
            (C::Unlock, S::Locked, Some(S::Active)),
            (C::Unlock, S::Active, None),
            (C::Unlock, S::Inactive, None),
        ];
        for (change, from, to) in cases {
            let mut u = user(from);
            let result = u.transition(change, SystemClock.now());
            match to {
                Some(to) => assert_eq!((result, u.state), (Ok(()), to), "{change:?} from {from:?}"),
                None => assert!(result.is_err() && u.state == from, "{change:?} from {from:?} must fail"),
            }
        }
    }
}
