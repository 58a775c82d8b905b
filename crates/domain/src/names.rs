//! Human-meaningful names with their rules: usernames, display names, organization
//! names, descriptions and e-mail addresses. Each is parsed once at the edge and
//! cannot hold an invalid value afterwards.

use std::fmt;

use crate::ValidationError;

/// Longest username, display name or organization name (ZITADEL's limit).
pub const MAX_NAME_LEN: usize = 200;
/// Longest description of a machine user (ZITADEL's limit).
pub const MAX_DESCRIPTION_LEN: usize = 500;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Consumes the value, returning the text.
            #[must_use]
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A login name, unique (case-insensitively) within its organization.
    ///
    /// 1–200 characters; letters and digits of any script plus `.`, `_`, `-`, `@`
    /// and `+`. No whitespace, so it can be typed, quoted and logged safely.
    Username
);
string_newtype!(
    /// A free-text name shown to people: 1–200 characters, trimmed, no control
    /// characters.
    DisplayName
);
string_newtype!(
    /// An organization's name, unique (case-insensitively) within the instance:
    /// 1–200 characters, trimmed, no control characters.
    OrgName
);
string_newtype!(
    /// A free-text description: up to 500 characters, trimmed, no control
    /// characters other than newlines and tabs.
    Description
);
string_newtype!(
    /// An e-mail address: `local@domain`, at most 320 characters, no whitespace.
    Email
);

impl Username {
    /// Parses a username.
    ///
    /// # Errors
    /// When the text is empty, too long, or contains a character outside the
    /// allowed set.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "username";
        if s.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if s.chars().count() > MAX_NAME_LEN {
            return Err(ValidationError::new(FIELD, "must be at most 200 characters"));
        }
        if !s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+')) {
            return Err(ValidationError::new(FIELD, "may only contain letters, digits and . _ - @ +"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The form used for uniqueness and look-ups: lower case.
    #[must_use]
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Trims `s` and checks it is a non-empty single line of at most `max` characters.
pub(crate) fn single_line(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

impl DisplayName {
    /// Parses a display name for the input called `field`.
    ///
    /// # Errors
    /// When the trimmed text is empty, too long or contains control characters.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, ValidationError> {
        single_line(field, s, MAX_NAME_LEN).map(Self)
    }
}

impl OrgName {
    /// Parses an organization name.
    ///
    /// # Errors
    /// When the trimmed text is empty, too long or contains control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        single_line("name", s, MAX_NAME_LEN).map(Self)
    }

    /// The form used for uniqueness: lower case.
    #[must_use]
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl Description {
    /// Parses a description; empty is allowed.
    ///
    /// # Errors
    /// When the text is too long or contains control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "description";
        let s = s.trim();
        if s.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(ValidationError::new(FIELD, "must be at most 500 characters"));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(ValidationError::new(FIELD, "must not contain control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The empty description.
    #[must_use]
    pub fn empty() -> Self {
        Self(String::new())
    }
}

impl Email {
    /// Parses an e-mail address (a pragmatic check, not full RFC 5322).
    ///
    /// # Errors
    /// When the text is not `local@domain` or is too long.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "email";
        let s = s.trim();
        let valid = s.len() <= 320
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && s.split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(FIELD, "must be an address of the form name@domain"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn username_accepts_the_usual_shapes() {
        for ok in ["ci-bot", "deploy.bot_2", "svc+prod@example.com", "Zürich"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn username_rejects_empty_whitespace_and_overlong() {
        for bad in ["", " ", "a b", "tab\tname", "semi;colon", "slash/name"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(200)).is_ok());
        assert!(Username::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn username_key_is_case_insensitive() {
        assert_eq!(Username::parse("CI-Bot").unwrap().key(), "ci-bot");
    }

    #[test]
    fn display_name_is_trimmed_and_single_line() {
        assert_eq!(DisplayName::parse("name", "  Deploy bot ").unwrap().as_str(), "Deploy bot");
        assert!(DisplayName::parse("name", "   ").is_err());
        assert!(DisplayName::parse("name", "two\nlines").is_err());
    }

    #[test]
    fn description_may_be_empty_but_not_overlong() {
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert!(Description::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn email_needs_one_at_with_both_halves() {
        assert!(Email::parse("ops@example.com").is_ok());
        for bad in ["", "ops", "@example.com", "ops@", "a@b@c", "o ps@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = Username::parse(&s);
            let _ = DisplayName::parse("name", &s);
            let _ = OrgName::parse(&s);
            let _ = Description::parse(&s);
            let _ = Email::parse(&s);
        }

        #[test]
        fn valid_usernames_round_trip(s in "[a-zA-Z0-9._@+-]{1,200}") {
            let parsed = Username::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }
    }
}
