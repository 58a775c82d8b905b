//! Federated credentials: what lets a machine user sign in with an identity
//! token from the platform its workload runs on (a GitHub Actions OIDC token, a
//! Kubernetes service-account token) instead of a stored secret
//! (docs/federation.md). Each credential names the trusted issuer, where its
//! keys come from, the exact subject, the accepted audience and optional
//! conditions on other claims.
//!
//! Every part is bounded and parsed here, so nothing unbounded reaches storage,
//! the outbound client or the matcher.

use crate::names::{Description, DisplayName};
use crate::{FederatedCredentialId, Timestamp, UserId, ValidationError};

/// How many federated credentials one machine user may hold.
pub const MAX_PER_USER: usize = 20;
/// How many claim conditions one credential may hold.
pub const MAX_CONDITIONS: usize = 10;
/// Longest issuer, JWKS URL or audience.
pub const MAX_URL_LEN: usize = 512;
/// Longest subject (GitHub's `repo:<owner>/<repo>:environment:<name>` fits easily).
pub const MAX_SUBJECT_LEN: usize = 256;
/// Longest claim name in a condition.
pub const MAX_CLAIM_LEN: usize = 128;
/// Longest condition pattern.
pub const MAX_PATTERN_LEN: usize = 256;
/// Largest inline JWKS (a handful of RSA keys).
pub const MAX_INLINE_JWKS_LEN: usize = 16 * 1024;

/// A trusted token issuer: an absolute `https://` (or, for development and
/// tests, `http://`) URL without query, fragment or user info, compared
/// exactly with the token's `iss` (no normalization: a trailing slash is
/// another issuer, as OpenID Connect Discovery §4.3 requires).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issuer(String);

impl Issuer {
    /// Parses an issuer URL.
    ///
    /// # Errors
    /// When it is not such a URL or is longer than [`MAX_URL_LEN`].
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        web_url("issuer", s).map(Self)
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OpenID Connect discovery document of this issuer (OpenID Connect
    /// Discovery §4: the issuer with `/.well-known/openid-configuration`
    /// appended, after any trailing slash is removed).
    #[must_use]
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.0.trim_end_matches('/'))
    }
}

/// An absolute `http(s)://` URL with a host, no user info and no fragment, of
/// at most [`MAX_URL_LEN`] bytes. Whether `http` may be fetched is the
/// outbound client's decision (its allow-list), not the stored value's.
fn web_url(field: &'static str, s: &str) -> Result<String, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if s.len() > MAX_URL_LEN {
        return Err(ValidationError::new(field, "must be at most 512 characters"));
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ValidationError::new(field, "must not contain spaces or control characters"));
    }
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| ValidationError::new(field, "must be an https:// URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(ValidationError::new(field, "must name a host"));
    }
    if authority.contains('@') {
        return Err(ValidationError::new(field, "must not contain user info"));
    }
    if s.contains('#') {
        return Err(ValidationError::new(field, "must not contain a fragment"));
    }
    Ok(s.to_owned())
}

/// Where the keys that sign an issuer's tokens come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `jwks_uri` of the issuer's OpenID Connect discovery document.
    Discovery,
    /// A JWKS URL given explicitly (for an issuer without discovery).
    JwksUrl(String),
    /// A JWKS given inline, for a cluster whose issuer Tessera cannot reach.
    /// Kept as the JSON text it was given in; its keys are checked when it is
    /// set (`tessera_oauth::federation`).
    Inline(String),
}

impl KeySource {
    /// A JWKS URL.
    ///
    /// # Errors
    /// As for an issuer URL.
    pub fn jwks_url(s: &str) -> Result<Self, ValidationError> {
        web_url("jwksUrl", s).map(Self::JwksUrl)
    }

    /// An inline JWKS: a JSON object of at most [`MAX_INLINE_JWKS_LEN`] bytes
    /// (its keys are checked by the caller, which knows JOSE).
    ///
    /// # Errors
    /// When it is empty or too large.
    pub fn inline(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ValidationError::new("jwks", "is required"));
        }
        if s.len() > MAX_INLINE_JWKS_LEN {
            return Err(ValidationError::new("jwks", "must be at most 16 KiB"));
        }
        Ok(Self::Inline(s.to_owned()))
    }

    /// Storage spelling of the kind.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::JwksUrl(_) => "jwks_url",
            Self::Inline(_) => "inline",
        }
    }
}

/// Text compared exactly with a claim: 1 to `max` bytes, no control
/// characters, not trimmed.
fn exact_text(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    if s.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if s.len() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// The exact `sub` a token must carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject(String);

impl Subject {
    /// Parses a subject: 1 to [`MAX_SUBJECT_LEN`] bytes, no control characters,
    /// kept exactly (no trimming inside a comparison that must be exact).
    ///
    /// # Errors
    /// When empty, too long, or with control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        exact_text("subject", s, MAX_SUBJECT_LEN).map(Self)
    }

    /// The subject.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The audience a token must name, compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Audience(String);

impl Audience {
    /// Parses an audience: 1 to [`MAX_URL_LEN`] bytes without control
    /// characters (often a URL, but any string a platform lets one ask for).
    ///
    /// # Errors
    /// When empty, too long, or with control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        exact_text("audience", s, MAX_URL_LEN).map(Self)
    }

    /// The audience.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A condition on one claim of the token: the claim's value must match the
/// pattern.
///
/// The claim is named by a path of object members joined with `.`; a member
/// whose own name contains dots (Kubernetes' `kubernetes.io`) is found too, so
/// `kubernetes.io.namespace` reaches `{"kubernetes.io": {"namespace": …}}`.
/// Strings, numbers and booleans match by their text; a missing claim, an
/// object or an array never matches.
///
/// The pattern is exact text, except that `*` matches any run of characters
/// (none included): `refs/heads/*`, `repo:acme/*:environment:production`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimCondition {
    claim: String,
    pattern: String,
}

impl ClaimCondition {
    /// Parses a condition.
    ///
    /// # Errors
    /// When the claim is empty, too long or not made of letters, digits and
    /// `_ . - : /`; when the pattern is empty, too long or has control
    /// characters.
    pub fn parse(claim: &str, pattern: &str) -> Result<Self, ValidationError> {
        let name_ok = !claim.is_empty()
            && claim.len() <= MAX_CLAIM_LEN
            && claim.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-:/".contains(&b))
            && !claim.starts_with('.')
            && !claim.ends_with('.');
        if !name_ok {
            return Err(ValidationError::new(
                "conditions.claim",
                "must be 1 to 128 letters, digits or _ . - : / (not starting or ending with .)",
            ));
        }
        if pattern.is_empty() || pattern.len() > MAX_PATTERN_LEN {
            return Err(ValidationError::new("conditions.pattern", "must be 1 to 256 bytes"));
        }
        if pattern.chars().any(char::is_control) {
            return Err(ValidationError::new("conditions.pattern", "must not contain control characters"));
        }
        Ok(Self { claim: claim.to_owned(), pattern: pattern.to_owned() })
    }

    /// The claim's path.
    #[must_use]
    pub fn claim(&self) -> &str {
        &self.claim
    }

    /// The pattern.
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `value` matches the pattern.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        glob(&self.pattern, value)
    }
}

/// `*`-only glob matching, linear in practice: the classic two-pointer walk
/// that backtracks only to the last `*` (no exponential blow-up on `*a*a*a…`).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Checks a list of conditions against [`MAX_CONDITIONS`].
///
/// # Errors
/// When there are too many.
pub fn check_conditions(conditions: &[ClaimCondition]) -> Result<(), ValidationError> {
    if conditions.len() > MAX_CONDITIONS {
        return Err(ValidationError::new("conditions", "at most 10 conditions"));
    }
    Ok(())
}

/// A federated credential of a machine user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    /// Stable id.
    pub id: FederatedCredentialId,
    /// The machine user it signs in.
    pub user_id: UserId,
    /// A name for people.
    pub name: DisplayName,
    /// What it is for.
    pub description: Description,
    /// The trusted issuer (`iss`).
    pub issuer: Issuer,
    /// Where the issuer's keys come from.
    pub key_source: KeySource,
    /// The exact `sub`.
    pub subject: Subject,
    /// The audience the token must name.
    pub audience: Audience,
    /// Further conditions, all of which must hold.
    pub conditions: Vec<ClaimCondition>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_absolute_web_urls_kept_exactly() {
        for ok in ["https://token.actions.githubusercontent.com", "https://k8s.example/", "http://127.0.0.1:8080/x"] {
            assert_eq!(Issuer::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "token.actions.githubusercontent.com", "ftp://x", "https://", "https://u:p@x", "https://x/#f"] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
        assert!(Issuer::parse(&format!("https://x/{}", "a".repeat(600))).is_err());
        assert_eq!(
            Issuer::parse("https://k8s.example/").unwrap().discovery_url(),
            "https://k8s.example/.well-known/openid-configuration"
        );
    }

    #[test]
    fn conditions_glob_with_star_only() {
        let c = |p: &str| ClaimCondition::parse("ref", p).unwrap();
        assert!(c("refs/heads/main").matches("refs/heads/main"));
        assert!(!c("refs/heads/main").matches("refs/heads/main2"));
        assert!(c("refs/heads/*").matches("refs/heads/"));
        assert!(c("refs/heads/*").matches("refs/heads/feature/x"));
        assert!(!c("refs/heads/*").matches("refs/tags/v1"));
        assert!(c("repo:acme/*:environment:production").matches("repo:acme/deploy:environment:production"));
        assert!(!c("repo:acme/*:environment:production").matches("repo:acme/deploy:environment:staging"));
        assert!(c("*").matches(""));
        assert!(!c("a?c").matches("abc"), "? is literal");
        // No exponential backtracking.
        let hostile = c(&"*a".repeat(100));
        assert!(!hostile.matches(&"a".repeat(99)));
    }

    #[test]
    fn bad_conditions_and_subjects_are_refused() {
        for claim in ["", ".a", "a.", "a b", "a\"b", &"a".repeat(129)] {
            assert!(ClaimCondition::parse(claim, "x").is_err(), "{claim}");
        }
        assert!(ClaimCondition::parse("kubernetes.io.namespace", "ci").is_ok());
        assert!(ClaimCondition::parse("ref", "").is_err());
        assert!(ClaimCondition::parse("ref", "a\nb").is_err());
        assert!(Subject::parse("").is_err());
        assert!(Subject::parse(&"s".repeat(257)).is_err());
        assert!(Subject::parse("system:serviceaccount:ci:deployer").is_ok());
        assert!(Audience::parse("").is_err());
        let eleven = vec![ClaimCondition::parse("a", "b").unwrap(); MAX_CONDITIONS + 1];
        assert!(check_conditions(&eleven).is_err());
    }
}
