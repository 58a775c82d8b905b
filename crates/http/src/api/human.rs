//! A human user as the v2 messages describe one (`SetHumanProfile`,
//! `SetHumanEmail`, `Password`), turned into the use case's `NewHuman`: for
//! `CreateUser`'s `human` and `AddOrganization`'s human administrators.
//!
//! Also the one shape fix the official Python SDK needs: its generator wraps
//! the `password` member of a oneof once more, so it sends
//! `{"password": {"password": {"password": "…"}}}` where the proto says
//! `{"password": {"password": "…"}}` ([`unwrap_sdk_password`]).

use secrecy::SecretString;
use serde_json::Value;
use tessera_core::users::NewHuman;
use tessera_domain::names::{DisplayName, Email, Username};
use tessera_domain::{OrgId, UserId};
use tessera_proto::zitadel::user::v2 as user_v2;

use crate::error::ServiceError;

/// The parts of a new human user a request carries.
#[derive(Debug, Default)]
pub struct HumanParts<'a> {
    /// `profile`.
    pub profile: Option<&'a user_v2::SetHumanProfile>,
    /// `email`.
    pub email: Option<&'a user_v2::SetHumanEmail>,
    /// The `password` member of `password_type`.
    pub password: Option<&'a user_v2::Password>,
}

impl HumanParts<'_> {
    /// The user to create.
    ///
    /// # Errors
    /// `invalid_argument` naming the field (under `human.`) that is missing or
    /// malformed.
    pub fn into_new_human(
        self,
        org_id: Option<OrgId>,
        user_id: Option<UserId>,
        username: Option<Username>,
    ) -> Result<NewHuman, ServiceError> {
        let password = match self.password {
            None => None,
            Some(p) if !p.password.is_empty() && p.password.chars().count() <= 200 => {
                Some(SecretString::from(p.password.clone()))
            }
            Some(_) => return Err(ServiceError::invalid("human.password.password must be 1 to 200 characters")),
        };
        let profile = self.profile.cloned().unwrap_or_default();
        let email = self.email.cloned().unwrap_or_default();
        let user_v2::set_human_email::Verification::IsVerified(verified) =
            email.verification.unwrap_or(user_v2::set_human_email::Verification::IsVerified(false));
        Ok(NewHuman {
            org_id,
            user_id,
            username,
            given_name: DisplayName::parse("human.profile.givenName", &profile.given_name)?,
            family_name: DisplayName::parse("human.profile.familyName", &profile.family_name)?,
            display_name: profile
                .display_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| DisplayName::parse("human.profile.displayName", s))
                .transpose()?,
            email: Email::parse(&email.email)?,
            email_verified: verified,
            password,
        })
    }
}

/// Rewrites the Python SDK's `{"password": {"password": {…}}}` in `human` to
/// the proto's `{"password": {…}}`; leaves every other shape alone.
pub fn unwrap_sdk_password(human: &mut Value) {
    let Some(password) = human.get_mut("password") else { return };
    if let Some(inner) = password.get("password").filter(|p| p.is_object()).cloned() {
        *password = inner;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_sdks_extra_wrapping_is_removed_and_nothing_else_changes() {
        let mut sdk = json!({"password": {"password": {"password": "pw", "changeRequired": false}}});
        unwrap_sdk_password(&mut sdk);
        assert_eq!(sdk, json!({"password": {"password": "pw", "changeRequired": false}}));
        for shape in [json!({"password": {"password": "pw"}}), json!({"profile": {}}), json!("x")] {
            let mut same = shape.clone();
            unwrap_sdk_password(&mut same);
            assert_eq!(same, shape);
        }
    }

    #[test]
    fn passwords_are_one_to_two_hundred_characters() {
        let profile = user_v2::SetHumanProfile { given_name: "A".into(), family_name: "B".into(), display_name: None };
        let email = user_v2::SetHumanEmail { email: "a@example.com".into(), verification: None };
        for (password, ok) in [("", false), ("x", true), (&*"x".repeat(201), false)] {
            let password = user_v2::Password { password: password.to_owned() };
            let parts = HumanParts { profile: Some(&profile), email: Some(&email), password: Some(&password) };
            assert_eq!(parts.into_new_human(None, None, None).is_ok(), ok);
        }
        let parts = HumanParts { profile: Some(&profile), email: None, password: None };
        assert!(parts.into_new_human(None, None, None).is_err(), "an e-mail address is required");
    }
}
