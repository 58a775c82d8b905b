//! The token endpoint's grants (RFC 6749 §4.4 client credentials, RFC 7523 §2.1
//! JWT bearer) and the tokens they issue: opaque `tsr_at_` access tokens or
//! RS256 JWTs (per the machine user's access token type), plus an ID token when
//! `openid` is granted.
//!
//! A deactivated, locked or deleted user, or one of a deactivated organization,
//! gets nothing from any grant (ZITADEL CVE-2024-47000 was this bug).
//!
//! The client a token is issued to depends on the grant, as in ZITADEL: the
//! JWT Profile's client is the machine user's **id** (the key file's `userId`,
//! the assertion's `sub`); client credentials' client is its **username** (the
//! `client_id` it authenticated with). That id goes into the ID token's `aud`
//! and `azp`, the access token's `client_id` (JWT claim or stored row, read back
//! by introspection) and, when no audience was requested, the access token's
//! `aud`.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tessera_domain::access_token::{AccessToken, UsedJti};
use tessera_domain::audit::AuditEvent;
use tessera_domain::cache::CachePolicy;
use tessera_domain::project::ProjectState;
use tessera_domain::repo::{CredentialOwner, RepoError, Store};
use tessera_domain::user::{AccessTokenType, User};
use tessera_domain::{AccessTokenId, Clock, ProjectId, SecretId, Timestamp, UserId};

use tessera_domain::FederatedCredentialId;
use tessera_domain::federation::{FederatedCredential, KeySource};

use crate::assertion::{AssertionError, AssertionPolicy, CandidateKey, parse_assertion};
use crate::caches;
use crate::claims;
use crate::credential::{Credential, CredentialKind, ParsedCredential};
use crate::federation::keys::KeyCache;
use crate::federation::{FederationError, FederationPolicy, parse_external};
use crate::issue_log::{self, Issuance, IssueLog, Recorded};
use crate::jwt_access_token::{self, AccessTokenClaims};
use crate::keyring::KeyRing;
use crate::scope::{ScopeError, Scopes};

/// Grant type of the JWT Profile (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Grant type of client credentials (RFC 6749 §4.4).
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// Grant type of token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693 §3: a JWT, the `subject_token_type` of an external token.
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// RFC 8693 §3: an OpenID Connect ID token, also accepted as a subject token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// The member of JWT access tokens and introspection answers that names the
/// federated credential a token was exchanged for (docs/federation.md).
pub const FEDERATED_CREDENTIAL_CLAIM: &str = "urn:tessera:federated_credential_id";
/// RFC 8693 §3: what a token exchange issues (`issued_token_type`).
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Which grant issues a token; it decides who the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// RFC 7523 §2.1, [`JWT_BEARER`].
    JwtBearer,
    /// RFC 6749 §4.4, [`CLIENT_CREDENTIALS`].
    ClientCredentials,
    /// RFC 8693, [`TOKEN_EXCHANGE`], with an external token of a federated
    /// credential.
    TokenExchange,
}

impl Grant {
    /// The `grant_type` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JwtBearer => JWT_BEARER,
            Self::ClientCredentials => CLIENT_CREDENTIALS,
            Self::TokenExchange => TOKEN_EXCHANGE,
        }
    }

    /// The client the tokens of this grant are issued to, as ZITADEL names it:
    /// the user id for the JWT Profile (RFC 7523 §3 item 2: the assertion's
    /// `sub`, the only id a client configured from the key file knows), the
    /// username for client credentials (the `client_id` it authenticated with,
    /// RFC 6749 §2.3.1).
    #[must_use]
    pub fn client_id(self, user: &User) -> String {
        match self {
            Self::JwtBearer | Self::TokenExchange => user.id.to_string(),
            Self::ClientCredentials => user.username.to_string(),
        }
    }
}

/// The access token audience: the requested audiences, else the client itself
/// (RFC 7519 §4.1.3: a token always names who it is meant for).
fn token_audience(scopes: &Scopes, api_audience: &str, client_id: &str) -> Vec<String> {
    let mut audience = scopes.audience(api_audience);
    if audience.is_empty() {
        audience.push(client_id.to_owned());
    }
    audience
}

/// The ID token's `aud` (OIDC Core §2): the client id first, then the other
/// audiences of the access token, without repeating the client.
fn id_token_audience(client_id: &str, audience: &[String]) -> Vec<String> {
    let mut aud = vec![client_id.to_owned()];
    aud.extend(audience.iter().filter(|a| a.as_str() != client_id).cloned());
    aud
}

/// What the token endpoint is configured with.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// The issuer (`iss`), the external URL.
    pub issuer: String,
    /// The token endpoint URL (also an accepted assertion audience).
    pub token_endpoint: String,
    /// The audience that lets a token call the management API (the instance id,
    /// ZITADEL's "zitadel" project).
    pub api_audience: String,
    /// Lifetime of access tokens.
    pub access_token_lifetime: Duration,
    /// Lifetime of ID tokens.
    pub id_token_lifetime: Duration,
    /// Allowed clock difference for assertions and JWTs.
    pub skew: Duration,
    /// How long a superseded client secret keeps working (0: not at all).
    pub secret_overlap: Duration,
}

/// A refused request: what the client is told and the rule that refused it,
/// which the HTTP edge logs (one line at `info`) for the operator. Neither ever
/// contains a credential or assertion; the description names the rule only
/// where that leaks nothing (e.g. whether a user exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `error_description` sent to the client.
    pub description: Cow<'static, str>,
    /// The rule that refused, for the log.
    pub rule: Cow<'static, str>,
}

impl Refusal {
    /// A refusal whose description is the rule itself.
    pub fn public(rule: impl Into<Cow<'static, str>>) -> Self {
        let rule = rule.into();
        Self { description: rule.clone(), rule }
    }

    /// A refusal that tells the client `description` and logs `rule`.
    pub fn new(description: impl Into<Cow<'static, str>>, rule: impl Into<Cow<'static, str>>) -> Self {
        Self { description: description.into(), rule: rule.into() }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// The description of every client authentication failure whose rule would
/// tell whether a client exists or which part of its secret was wrong.
pub const CLIENT_AUTH_FAILED: &str = "client authentication failed";

/// The description of every assertion failure whose rule would tell whether a
/// user or key exists (RFC 7523 §3.1 `invalid_grant`).
pub const NO_KEY_VERIFIES: &str =
    "the assertion is invalid: no registered, unexpired key of its sub verifies its signature";

/// Why a grant failed, by RFC 6749 §5.2 error code. Descriptions never contain
/// the credential or assertion.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// RFC 6749 §5.2 `invalid_request`: a missing, repeated or malformed parameter.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// RFC 6749 §5.2 `invalid_client`: client authentication failed (401).
    #[error("{0}")]
    InvalidClient(Refusal),
    /// RFC 6749 §5.2 / RFC 7523 §3.1 `invalid_grant`: the assertion is invalid.
    #[error("{0}")]
    InvalidGrant(Refusal),
    /// RFC 6749 §5.2 `invalid_scope`.
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 6749 §5.2 `unsupported_grant_type`.
    #[error("the grant type is not supported")]
    UnsupportedGrantType,
    /// Anything else; details are logged, not sent.
    #[error("server error")]
    Server(#[source] Box<dyn StdError + Send + Sync>),
}

impl GrantError {
    /// `invalid_client` with the generic description; `rule` goes to the log.
    pub fn client(rule: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidClient(Refusal::new(CLIENT_AUTH_FAILED, rule))
    }

    /// `invalid_grant` whose description is the rule.
    pub fn grant(rule: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidGrant(Refusal::public(rule))
    }

    /// RFC 7523 §3.1: `invalid_grant` for an assertion that broke `rule`,
    /// named to the client only where that leaks nothing.
    #[must_use]
    pub fn assertion(rule: AssertionError, policy: &AssertionPolicy) -> Self {
        Self::InvalidGrant(assertion_refusal(rule, policy, NO_KEY_VERIFIES))
    }
}

/// The refusal of an assertion that broke `rule`: its public description, or
/// `generic` where naming the rule would leak something.
#[must_use]
pub fn assertion_refusal(rule: AssertionError, policy: &AssertionPolicy, generic: &'static str) -> Refusal {
    match rule.public_description(policy) {
        Some(description) => Refusal::public(description),
        None => Refusal::new(generic, rule.to_string()),
    }
}

impl From<RepoError> for GrantError {
    fn from(e: RepoError) -> Self {
        Self::Server(Box::new(e))
    }
}

impl From<ScopeError> for GrantError {
    fn from(e: ScopeError) -> Self {
        Self::InvalidScope(e.to_string())
    }
}

/// A successful token response (RFC 6749 §5.1).
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The granted scopes.
    pub scope: String,
    /// An ID token when `openid` was granted.
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: what a token exchange issued.
    pub issued_token_type: Option<&'static str>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// Issues tokens.
pub struct TokenService {
    config: TokenConfig,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    pub(crate) caches: Option<crate::caches::Caches>,
    log: Option<IssueLog>,
    federation: Option<Arc<Federation>>,
}

/// Workload identity federation at the token endpoint (docs/federation.md):
/// the issuers' key sets and the rules external tokens are checked by.
#[derive(Debug)]
pub struct Federation {
    /// The issuers' key sets.
    pub keys: KeyCache,
    /// Skew and maximum token age.
    pub policy: FederationPolicy,
    /// The longest an access token issued for an external token lives (never
    /// past the external token's own `exp`).
    pub max_lifetime: Duration,
    /// Exchanges by outcome, for metrics.
    pub outcomes: ExchangeOutcomes,
}

/// The outcomes an exchange is counted under
/// (`tessera_federation_exchanges_total{result}`): `issued`, one per group of
/// refusals ([`FederationError::label`]), `inactive` (user or organization),
/// `invalid_scope` and `error`.
pub const EXCHANGE_OUTCOMES: [&str; 14] = [
    "issued",
    "malformed",
    "algorithm",
    "untrusted_issuer",
    "keys_unavailable",
    "unknown_key",
    "bad_signature",
    "expired",
    "too_old",
    "replayed",
    "no_match",
    "inactive",
    "invalid_scope",
    "error",
];

/// Exchanges counted by outcome ([`EXCHANGE_OUTCOMES`]).
#[derive(Debug, Default)]
pub struct ExchangeOutcomes {
    counts: [std::sync::atomic::AtomicU64; EXCHANGE_OUTCOMES.len()],
}

impl ExchangeOutcomes {
    /// Counts one exchange with `outcome` (one of [`EXCHANGE_OUTCOMES`]).
    pub fn record(&self, outcome: &str) {
        if let Some(i) = EXCHANGE_OUTCOMES.iter().position(|o| *o == outcome) {
            self.counts[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Every outcome with its count.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        EXCHANGE_OUTCOMES
            .iter()
            .zip(&self.counts)
            .map(|(o, c)| (*o, c.load(std::sync::atomic::Ordering::Relaxed)))
            .collect()
    }
}

impl TokenService {
    /// A token service.
    pub fn new(config: TokenConfig, keys: Arc<KeyRing>, clock: Arc<dyn Clock>) -> Self {
        Self { config, keys, clock, caches: None, log: None, federation: None }
    }

    /// Accepts external tokens of federated credentials (token exchange, and
    /// the JWT bearer grant with an external token as the assertion).
    #[must_use]
    pub fn with_federation(mut self, federation: Arc<Federation>) -> Self {
        self.federation = Some(federation);
        self
    }

    /// The federation settings, when enabled.
    #[must_use]
    pub fn federation(&self) -> Option<&Arc<Federation>> {
        self.federation.as_ref()
    }

    /// Stores issued tokens through `log` (group commit) instead of one
    /// transaction per grant.
    #[must_use]
    pub fn with_issue_log(mut self, log: IssueLog) -> Self {
        self.log = Some(log);
        self
    }

    /// Keeps what the grants and introspection read (users, secrets, keys,
    /// applications, answers) in caches following `store`'s epoch.
    #[must_use]
    pub fn with_cache(mut self, store: &dyn Store, policy: CachePolicy) -> Self {
        self.caches = Some(crate::caches::Caches::new(store, policy));
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The signing keys.
    #[must_use]
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// RFC 7523 §2.1: exchanges a JWT signed with a machine user's registered key
    /// for tokens. No client authentication takes part (RFC 7523 §2.1; the
    /// official SDK sends `client_id=None`, which is ignored).
    ///
    /// # Errors
    /// `invalid_grant` for every assertion problem (RFC 7523 §3.1) and for a
    /// user that may not authenticate; `invalid_scope`; server errors.
    pub async fn jwt_bearer(
        &self,
        store: &dyn Store,
        assertion: &str,
        scope: &str,
    ) -> Result<TokenResponse, GrantError> {
        // An external token (its `iss` a URL) of a federated credential; a JWT
        // Profile assertion's `iss` is the user id (RFC 7523 §3 item 1).
        if self.federation.is_some()
            && crate::federation::parse_external(assertion)
                .is_ok_and(|t| t.issuer().is_ok_and(|i| i.starts_with("https://") || i.starts_with("http://")))
        {
            return self.federated(store, assertion, scope, Grant::JwtBearer).await;
        }
        let now = self.clock.now();
        let policy = AssertionPolicy::new(&self.config.issuer, &self.config.token_endpoint).with_skew(self.config.skew);
        let refuse = |rule: AssertionError| GrantError::assertion(rule, &policy);
        let parsed = parse_assertion(assertion).map_err(refuse)?;
        let subject = parsed.subject().map_err(refuse)?;
        // Said before any lookup, so it tells nothing about which users exist.
        let user_id = UserId::parse(subject).map_err(|_| {
            GrantError::grant("the assertion's sub must be the machine user's id (the key file's userId)")
        })?;
        let cache = self.caches.as_ref().map(|c| &c.machine_keys);
        let found =
            caches::through(cache, user_id, || async { store.machine_keys().find_for_auth(user_id).await }).await?;
        let Some(found) = found else {
            return Err(GrantError::InvalidGrant(Refusal::new(
                NO_KEY_VERIFIES,
                "no machine user with the assertion's sub",
            )));
        };
        let keys: Vec<CandidateKey> = found.keys.iter().map(CandidateKey::from).collect();
        let verified = parsed.verify(subject, &keys, &policy, now).map_err(refuse)?;
        // Only after the signature: do not reveal user states to anyone.
        require_active(&found.owner).map_err(|()| {
            GrantError::grant("the user may not authenticate (it, or its organization, is not active)")
        })?;
        let jti = match &verified.jti {
            Some(jti) => Some(
                UsedJti::new(subject, jti.clone(), verified.replay_window_end())
                    .map_err(|_| refuse(AssertionError::InvalidJti))?,
            ),
            None => None,
        };
        let user = self.user(store, user_id).await?;
        let scopes = Scopes::parse(scope, user.org_id)?;
        let lifetime = self.config.access_token_lifetime;
        self.issue(store, &user, scopes, jti, Grant::JwtBearer, now, lifetime, None).await
    }

    /// Exchanges an external token for the tokens its federated credential's
    /// machine user would get from its key file (docs/federation.md): RFC 8693
    /// token exchange, or the RFC 7523 JWT bearer grant with the external token
    /// as the assertion. Only credentials whose own key source verified the
    /// token may match it: a key set one administrator configured never makes
    /// a token match another administrator's credential.
    ///
    /// # Errors
    /// `invalid_grant` for every rule of `crate::federation` and for a user
    /// that may not authenticate; `invalid_scope`; server errors.
    pub async fn federated(
        &self,
        store: &dyn Store,
        token: &str,
        scope: &str,
        grant: Grant,
    ) -> Result<TokenResponse, GrantError> {
        let Some(federation) = &self.federation else { return Err(GrantError::UnsupportedGrantType) };
        let result = self.exchange(federation, store, token, scope, grant).await;
        federation.outcomes.record(match &result {
            Ok(_) => "issued",
            // Refusals by a federation rule are counted where they happen.
            Err(GrantError::InvalidGrant(_)) => return result,
            Err(GrantError::InvalidScope(_)) => "invalid_scope",
            Err(_) => "error",
        });
        result
    }

    async fn exchange(
        &self,
        federation: &Federation,
        store: &dyn Store,
        token: &str,
        scope: &str,
        grant: Grant,
    ) -> Result<TokenResponse, GrantError> {
        let now = self.clock.now();
        let refuse = |e: FederationError| {
            federation.outcomes.record(e.label());
            GrantError::InvalidGrant(Refusal::new(e.description(), e.to_string()))
        };
        let parsed = parse_external(token).map_err(refuse)?;
        let issuer = parsed.issuer().map_err(refuse)?;
        let subject = parsed.subject().ok_or_else(|| refuse(FederationError::NoMatch))?;
        // No stored credential names a longer issuer or subject: no query for one.
        if issuer.len() > tessera_domain::federation::MAX_URL_LEN
            || subject.len() > tessera_domain::federation::MAX_SUBJECT_LEN
        {
            return Err(refuse(FederationError::UntrustedIssuer));
        }
        let candidates = store.federated_credentials().find_for_exchange(issuer, subject).await?;
        if candidates.is_empty() {
            return Err(refuse(FederationError::UntrustedIssuer));
        }
        let mut sources: Vec<&KeySource> = Vec::new();
        for c in &candidates {
            if !sources.contains(&&c.credential.key_source) {
                sources.push(&c.credential.key_source);
            }
        }
        let (mut verified, mut matched, mut last) = (None, Vec::new(), FederationError::BadSignature);
        for source in sources {
            let checked =
                match federation.keys.keys(&candidates[0].credential.issuer, source, parsed.key_id(), now).await {
                    Ok(keys) => parsed.verify(&keys, &federation.policy, now),
                    Err(e) => Err(e),
                };
            match checked {
                Ok(v) => {
                    matched.extend(candidates.iter().filter(|c| &c.credential.key_source == source));
                    verified = Some(v);
                }
                Err(e) => last = e,
            }
        }
        let verified = verified.ok_or_else(|| refuse(last))?;
        let credentials: Vec<FederatedCredential> = matched.iter().map(|c| c.credential.clone()).collect();
        let chosen = verified.select(&credentials).map_err(refuse)?;
        let owner = &matched
            .iter()
            .find(|c| c.credential.id == chosen.id)
            .ok_or_else(|| refuse(FederationError::NoMatch))?
            .owner;
        require_active(owner).map_err(|()| {
            federation.outcomes.record("inactive");
            GrantError::grant("the user may not authenticate (it, or its organization, is not active)")
        })?;
        // `jti`s of external tokens live in their own namespace of the ledger.
        let namespace = format!("federated:{}", URL_SAFE_NO_PAD.encode(Sha256::digest(issuer.as_bytes())));
        let jti = match &verified.jti {
            Some(jti) => Some(
                UsedJti::new(namespace, jti.clone(), verified.replay_window_end())
                    .map_err(|_| refuse(FederationError::InvalidJti))?,
            ),
            None => None,
        };
        let lifetime = self.config.access_token_lifetime.min(federation.max_lifetime).min(verified.expires_at - now);
        if lifetime <= Duration::zero() {
            return Err(refuse(FederationError::Expired));
        }
        let user = self.user(store, owner.user_id).await?;
        let scopes = Scopes::parse(scope, user.org_id)?;
        let issued = self.issue(store, &user, scopes, jti, grant, now, lifetime, Some(chosen.id)).await;
        if let Err(GrantError::InvalidGrant(_)) = &issued {
            // The only refusal `issue` makes: a `jti` seen before.
            federation.outcomes.record("replayed");
        }
        issued
    }

    /// RFC 6749 §4.4: a machine user authenticated by its client secret
    /// (`client_id` is its username, as in ZITADEL).
    ///
    /// # Errors
    /// `invalid_client` for any authentication problem (including a user that
    /// may not authenticate), `invalid_scope`, server errors.
    pub async fn client_credentials(
        &self,
        store: &dyn Store,
        client_id: &str,
        secret: &SecretString,
        scope: &str,
    ) -> Result<TokenResponse, GrantError> {
        let now = self.clock.now();
        let user = self.authenticate_machine(store, client_id, secret, now).await?;
        let scopes = Scopes::parse(scope, user.org_id)?;
        let lifetime = self.config.access_token_lifetime;
        self.issue(store, &user, scopes, None, Grant::ClientCredentials, now, lifetime, None).await
    }

    /// Checks a machine user's client secret (`client_secret_basic` or
    /// `client_secret_post`): one point read by the secret's embedded id, one
    /// SHA-256, a constant-time compare.
    ///
    /// # Errors
    /// `invalid_client` for every failure, server errors.
    pub async fn authenticate_machine(
        &self,
        store: &dyn Store,
        client_id: &str,
        secret: &SecretString,
        now: Timestamp,
    ) -> Result<User, GrantError> {
        let parsed = ParsedCredential::parse(Some(CredentialKind::ClientSecret), secret.expose_secret()).map_err(|_| {
            // Checked before any I/O: saying so leaks nothing.
            GrantError::InvalidClient(Refusal::public(
                "the client secret is malformed (not a tsr_cs_ secret, or its checksum fails): check that it was copied whole",
            ))
        })?;
        let id = SecretId::from_uuid(parsed.id());
        let cache = self.caches.as_ref().map(|c| &c.secrets);
        let Some(found) =
            caches::through(cache, id, || async { store.machine_secrets().find_for_auth(id).await }).await?
        else {
            return Err(GrantError::client("no machine user has this client secret"));
        };
        if !parsed.verify(&found.secret.digest) {
            return Err(GrantError::client("the client secret does not match"));
        }
        if !found.secret.accepted_at(now, self.config.secret_overlap) {
            return Err(GrantError::client("the client secret was replaced by a newer one"));
        }
        if found.username.key() != client_id.to_lowercase() {
            return Err(GrantError::client("client_id is not the username of the secret's machine user"));
        }
        if require_active(&found.owner).is_err() {
            return Err(GrantError::client("the machine user, or its organization, is not active"));
        }
        self.user(store, found.owner.user_id).await.map_err(|_| GrantError::client("the machine user is gone"))
    }

    /// RFC 6749 §3.3: a project audience scope must name an existing, active
    /// project; a role scope must name a role the user holds (on a requested
    /// project, when projects were requested). Anything else is `invalid_scope`.
    async fn check_project_scopes(&self, store: &dyn Store, user: &User, scopes: &Scopes) -> Result<(), GrantError> {
        let mut projects = Vec::with_capacity(scopes.projects.len());
        for p in &scopes.projects {
            let refuse =
                || GrantError::InvalidScope(format!("scope urn:zitadel:iam:org:project:id:{p}:aud names no project"));
            let id = ProjectId::parse(p).map_err(|_| refuse())?;
            match store.projects().get(id).await? {
                Some(project) if project.state == ProjectState::Active => projects.push(id),
                _ => return Err(refuse()),
            }
        }
        if scopes.roles.is_empty() {
            return Ok(());
        }
        let grants = store.authorizations().user_roles(user.id).await?;
        for role in &scopes.roles {
            let held = grants
                .iter()
                .any(|g| g.role_key.as_str() == role && (projects.is_empty() || projects.contains(&g.project_id)));
            if !held {
                return Err(GrantError::InvalidScope(format!(
                    "scope urn:zitadel:iam:org:project:role:{role} names no role of the user"
                )));
            }
        }
        Ok(())
    }

    async fn user(&self, store: &dyn Store, id: UserId) -> Result<User, GrantError> {
        let cache = self.caches.as_ref().map(|c| &c.users);
        let found = caches::through(cache, id, || async { store.users().get(id).await }).await?;
        found.map(|u| User::clone(&u)).ok_or_else(|| GrantError::grant("the user may not authenticate"))
    }

    #[allow(clippy::too_many_arguments, reason = "one call per grant, each naming what it decided")]
    async fn issue(
        &self,
        store: &dyn Store,
        user: &User,
        scopes: Scopes,
        jti: Option<UsedJti>,
        grant: Grant,
        now: Timestamp,
        lifetime: Duration,
        federated: Option<FederatedCredentialId>,
    ) -> Result<TokenResponse, GrantError> {
        self.check_project_scopes(store, user, &scopes).await?;
        let client_id = grant.client_id(user);
        let audience = token_audience(&scopes, &self.config.api_audience, &client_id);
        let user_claims = claims::user_claims(store, user, &scopes).await?;
        let token_type = user.machine().map_or(AccessTokenType::Bearer, |m| m.access_token_type);
        let id = AccessTokenId::new();
        let (access_token, stored) = match token_type {
            AccessTokenType::Bearer => {
                let (token, digest) =
                    Credential::generate(CredentialKind::AccessToken, *id.as_uuid(), &mut rand::rngs::OsRng);
                let row = AccessToken {
                    id,
                    user_id: user.id,
                    client_id: client_id.clone(),
                    scopes: scopes.granted.clone(),
                    audience: audience.clone(),
                    digest,
                    created_at: now,
                    expires_at: now + lifetime,
                    federated_credential: federated,
                };
                (SecretString::from(token.expose_secret().to_owned()), Some(row))
            }
            AccessTokenType::Jwt => {
                let mut claims = AccessTokenClaims::new(
                    &self.config.issuer,
                    user.id.to_string(),
                    audience.clone(),
                    &client_id,
                    &scopes.granted,
                    id.to_string(),
                    now,
                    lifetime,
                );
                // As ZITADEL: only the urn:zitadel claims go into JWT access tokens.
                for (k, v) in user_claims.iter().filter(|(k, _)| k.starts_with("urn:")) {
                    claims = claims.with_claim(k.clone(), v.clone()).map_err(|e| GrantError::Server(Box::new(e)))?;
                }
                if let Some(credential) = federated {
                    claims = claims
                        .with_claim(FEDERATED_CREDENTIAL_CLAIM, json!(credential))
                        .map_err(|e| GrantError::Server(Box::new(e)))?;
                }
                let jwt = jwt_access_token::issue(&self.keys.signer(), &claims, now)
                    .map_err(|e| GrantError::Server(Box::new(e)))?;
                (SecretString::from(jwt), None)
            }
        };

        let mut details = json!({"grant": grant.as_str(), "clientId": client_id, "scope": scopes.joined(), "type": token_type.as_str()});
        if let Some(credential) = federated {
            details["federatedCredentialId"] = json!(credential);
        }
        let event = AuditEvent::new(now, Some(user.id), "token.issued", "access_token", id, Some(user.org_id))
            .with_details(details);
        let issuance = Issuance { token: stored, jti, event, now };
        let recorded = match &self.log {
            Some(log) => log.record(issuance).await?,
            None => issue_log::write_one(store, &issuance).await?,
        };
        if recorded == Recorded::Replayed {
            return Err(GrantError::grant(if federated.is_some() {
                "the token was already exchanged (its jti was seen before): get a new one"
            } else {
                "the assertion was already used (its jti was seen before): create a new one"
            }));
        }

        let id_token = if scopes.openid {
            Some(self.id_token(user, &client_id, &audience, &access_token, user_claims, now)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime.num_seconds(),
            scope: scopes.joined(),
            id_token,
            issued_token_type: (grant == Grant::TokenExchange).then_some(TOKEN_TYPE_ACCESS_TOKEN),
        })
    }

    /// An OpenID Connect ID token, signed.
    fn id_token(
        &self,
        user: &User,
        client_id: &str,
        audience: &[String],
        access_token: &SecretString,
        user_claims: Map<String, Value>,
        now: Timestamp,
    ) -> Result<String, GrantError> {
        let claims = id_token_claims(&self.config, user, client_id, audience, access_token, user_claims, now);
        self.keys.signer().sign(&Value::Object(claims), "JWT", now).map_err(|e| GrantError::Server(Box::new(e)))
    }
}

/// The claims of an OpenID Connect ID token (OIDC Core §2): `aud` holds the
/// client id first, `azp` names it (required by relying parties such as
/// `openid-client` when `aud` has several values), `at_hash` binds the access
/// token (§3.2.2.9).
fn id_token_claims(
    config: &TokenConfig,
    user: &User,
    client_id: &str,
    audience: &[String],
    access_token: &SecretString,
    user_claims: Map<String, Value>,
    now: Timestamp,
) -> Map<String, Value> {
    let digest = Sha256::digest(access_token.expose_secret().as_bytes());
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(config.issuer));
    claims.insert("sub".into(), json!(user.id));
    claims.insert("aud".into(), json!(id_token_audience(client_id, audience)));
    claims.insert("exp".into(), json!((now + config.id_token_lifetime).timestamp()));
    claims.insert("iat".into(), json!(now.timestamp()));
    claims.insert("auth_time".into(), json!(now.timestamp()));
    claims.insert("azp".into(), json!(client_id));
    claims.insert("client_id".into(), json!(client_id));
    claims.insert("at_hash".into(), json!(URL_SAFE_NO_PAD.encode(&digest[..16])));
    claims.extend(user_claims);
    claims
}

fn require_active(owner: &CredentialOwner) -> Result<(), ()> {
    if owner.is_active() && owner.is_machine { Ok(()) } else { Err(()) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use tessera_domain::OrgId;
    use tessera_domain::names::{Description, DisplayName, Username};
    use tessera_domain::user::Machine;

    use super::*;

    const API: &str = "instance-api";

    fn robot() -> User {
        let machine = Machine {
            name: DisplayName::parse("name", "Robot").unwrap(),
            description: Description::empty(),
            access_token_type: AccessTokenType::Bearer,
        };
        User::new_machine(OrgId::new(), Username::parse("robot").unwrap(), machine, chrono::Utc::now())
    }

    fn config() -> TokenConfig {
        TokenConfig {
            issuer: "https://id.example".into(),
            token_endpoint: "https://id.example/oauth/v2/token".into(),
            api_audience: API.into(),
            access_token_lifetime: Duration::hours(12),
            id_token_lifetime: Duration::hours(12),
            skew: Duration::seconds(5),
            secret_overlap: Duration::zero(),
        }
    }

    /// The claims a grant puts in its ID token, for `scope`.
    fn id_claims(grant: Grant, user: &User, scope: &str) -> Map<String, Value> {
        let scopes = Scopes::parse(scope, user.org_id).unwrap();
        let client_id = grant.client_id(user);
        let audience = token_audience(&scopes, API, &client_id);
        let at = SecretString::from("tsr_at_x".to_owned());
        id_token_claims(&config(), user, &client_id, &audience, &at, Map::new(), chrono::Utc::now())
    }

    #[test]
    fn the_jwt_profile_client_is_the_user_id_and_client_credentials_the_username() {
        let user = robot();
        // RFC 7523 §3 item 2: the assertion's `sub` (the key file's `userId`) names the client.
        assert_eq!(Grant::JwtBearer.client_id(&user), user.id.to_string());
        // RFC 6749 §2.3.1: the client_id the secret was presented with.
        assert_eq!(Grant::ClientCredentials.client_id(&user), "robot");
        assert_eq!((Grant::JwtBearer.as_str(), Grant::ClientCredentials.as_str()), (JWT_BEARER, CLIENT_CREDENTIALS));
    }

    /// OIDC Core §2: `aud` contains the client id, `azp` is the client id (and
    /// must be, when `aud` has several values).
    #[test]
    fn a_jwt_profile_id_token_names_the_user_id_in_aud_and_azp() {
        let user = robot();
        let id = user.id.to_string();
        let claims =
            id_claims(Grant::JwtBearer, &user, &format!("openid {ZITADEL_API} urn:zitadel:iam:org:project:id:p1:aud"));
        assert_eq!(claims["aud"], json!([id, API, "p1"]));
        assert_eq!(claims["azp"], json!(id));
        assert_eq!(claims["client_id"], json!(id));
        assert_eq!(claims["sub"], json!(id));

        let claims = id_claims(Grant::JwtBearer, &user, "openid");
        assert_eq!(claims["aud"], json!([id]), "the client, once, when nothing else was requested");
        assert_eq!(claims["azp"], json!(id));
    }

    #[test]
    fn a_client_credentials_id_token_names_the_username_in_aud_and_azp() {
        let user = robot();
        let claims = id_claims(Grant::ClientCredentials, &user, &format!("openid {ZITADEL_API}"));
        assert_eq!(claims["aud"], json!(["robot", API]));
        assert_eq!(claims["azp"], json!("robot"));
        assert_eq!(claims["client_id"], json!("robot"));
        assert_eq!(claims["sub"], json!(user.id.to_string()), "the subject is the user either way");
    }

    #[test]
    fn an_access_token_without_requested_audience_is_meant_for_its_client() {
        let user = robot();
        let scopes = Scopes::parse("openid", user.org_id).unwrap();
        let id = Grant::JwtBearer.client_id(&user);
        assert_eq!(token_audience(&scopes, API, &id), vec![id.clone()]);
        assert_eq!(token_audience(&scopes, API, "robot"), ["robot"]);
        let scopes = Scopes::parse(ZITADEL_API, user.org_id).unwrap();
        assert_eq!(token_audience(&scopes, API, &id), [API], "a requested audience replaces the client");
    }

    const ZITADEL_API: &str = crate::scope::ZITADEL_API_AUDIENCE_SCOPE;
}
