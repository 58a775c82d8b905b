//! What resource servers call: token introspection (RFC 7662) and revocation
//! (RFC 7009), with the client authentication they need.
//!
//! Introspection callers are API applications of a project, authenticated by
//! `client_secret_basic` (a `tsr_cs_` secret: one point read by `client_id` and
//! a SHA-256 compare) or `private_key_jwt` (RFC 7523 §2.2, the assertion rules
//! of [`crate::assertion`], `jti` replay refused). The token itself is checked by
//! the one [`Validator`], so a removal, revocation or suspension is seen here
//! exactly as on the API.
//!
//! Revocation callers are machine users (their client secret, `client_id` =
//! username) or API applications. A client revokes only tokens issued to it
//! (machine users: tokens their own grants issued, whether the token names them
//! by username — client credentials — or by user id — the JWT Profile) or meant
//! for it (applications: their project in the token's audience); anything else
//! is a silent no-op, so the answer reveals nothing about other clients' tokens
//! (RFC 7009 §2.2).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use tessera_domain::access_token::{RevokedJwt, UsedJti};
use tessera_domain::audit::AuditEvent;
use tessera_domain::cache::EpochCache;
use tessera_domain::repo::{AppForAuth, RepoError, Store};
use tessera_domain::user::User;
use tessera_domain::{AppKeyId, Timestamp};
use uuid::Uuid;

use crate::assertion::{AssertionError, AssertionPolicy, CandidateKey, parse_assertion};
use crate::caches;
use crate::credential::{CredentialKind, ParsedCredential};
use crate::grant::{CLIENT_AUTH_FAILED, GrantError, Refusal, TokenService, assertion_refusal};
use crate::roles;
use crate::validator::{AuthError, CredentialRef, ResolvedToken, Validator};

/// The introspection member that shows a fine-grained PAT's scope
/// (docs/pat-hygiene.md).
pub const PAT_SCOPE_CLAIM: &str = "urn:tessera:pat_scope";

/// The client assertion type of RFC 7523 §2.2.
pub const JWT_BEARER_CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a client presented itself.
pub enum ClientAuth<'a> {
    /// `client_secret_basic` (or `client_secret_post` where allowed).
    Secret {
        /// The client id.
        client_id: &'a str,
        /// The secret.
        secret: &'a SecretString,
    },
    /// `private_key_jwt`: a client assertion whose `aud` must name the issuer or
    /// `endpoint` (the URL it was posted to).
    Assertion {
        /// The signed JWT.
        assertion: &'a str,
        /// The endpoint URL, also accepted as audience.
        endpoint: &'a str,
    },
}

/// An authenticated client of the revocation endpoint.
pub enum Client {
    /// A machine user with its client secret.
    Machine(Box<User>),
    /// An API application.
    App(Box<AppForAuth>),
}

impl TokenService {
    /// Authenticates an API application (RFC 7662 §2.1 requires the protected
    /// resource to authenticate). The application, its project and its
    /// organization must be active.
    ///
    /// # Errors
    /// `invalid_client` for every failure (without saying which), server errors.
    pub async fn authenticate_app(&self, store: &dyn Store, auth: &ClientAuth<'_>) -> Result<AppForAuth, GrantError> {
        let now = self.clock_now();
        let found = match auth {
            ClientAuth::Secret { client_id, secret } => {
                let found = self
                    .find_app(store, client_id)
                    .await?
                    .ok_or_else(|| GrantError::client("no API application has this client_id"))?;
                verify_app_secret(found, secret)?
            }
            ClientAuth::Assertion { assertion, endpoint } => {
                let policy = AssertionPolicy::new(&self.config().issuer, *endpoint).with_skew(self.config().skew);
                // RFC 7523 §3: the rules of the assertion, named where that
                // leaks nothing (`AssertionError::public_description`).
                let refuse = |rule: AssertionError| {
                    GrantError::InvalidClient(assertion_refusal(rule, &policy, CLIENT_AUTH_FAILED))
                };
                let parsed = parse_assertion(assertion).map_err(refuse)?;
                let subject = parsed.subject().map_err(refuse)?.to_owned();
                // RFC 7523 §3 item 9 / RFC 7515 §4.1.4: an application key is found by its `kid`.
                let kid = parsed.key_id().ok_or_else(|| {
                    GrantError::InvalidClient(Refusal::public(
                        "the client assertion must name its key in the kid header (the key file's keyId)",
                    ))
                })?;
                let key_id = AppKeyId::parse(kid).map_err(|_| GrantError::client("kid is not a key id"))?;
                let cache = self.caches.as_ref().map(|c| &c.app_keys);
                let found =
                    caches::through(cache, key_id, || async { store.applications().find_key_for_auth(key_id).await })
                        .await?;
                let Some(key) = found else {
                    return Err(GrantError::client("no application key has the assertion's kid"));
                };
                if key.app.app.client_id != subject {
                    return Err(GrantError::client("the assertion's key belongs to another client than its sub"));
                }
                let candidate = CandidateKey {
                    kid: key.key.id.to_string(),
                    key_type: key.key.key_type,
                    public_key_pem: key.key.public_key_pem.clone(),
                    expires_at: key.key.expires_at,
                };
                let verified = parsed.verify(&subject, &[candidate], &policy, now).map_err(refuse)?;
                if let Some(jti) = &verified.jti {
                    // RFC 7523 §3 item 7: a jti is used once while the assertion is valid.
                    let used = UsedJti::new(&subject, jti.clone(), verified.replay_window_end())
                        .map_err(|_| refuse(AssertionError::InvalidJti))?;
                    let tx = store.begin().await?;
                    let fresh = tx.used_jtis().record(&used, now).await?;
                    tx.commit().await?;
                    if !fresh {
                        return Err(GrantError::InvalidClient(Refusal::public(
                            "the client assertion was already used (its jti was seen before): create a new one",
                        )));
                    }
                }
                key.app.clone()
            }
        };
        if !found.is_active() {
            return Err(GrantError::client("the application, its project or its organization is not active"));
        }
        Ok(found)
    }

    /// Authenticates a revocation client: an API application (secret or key),
    /// else a machine user by its client secret (`client_id` = username).
    ///
    /// # Errors
    /// `invalid_client` for every failure, server errors.
    pub async fn authenticate_client(&self, store: &dyn Store, auth: &ClientAuth<'_>) -> Result<Client, GrantError> {
        match auth {
            ClientAuth::Assertion { .. } => Ok(Client::App(Box::new(self.authenticate_app(store, auth).await?))),
            // One read decides: the client id of an application, else a machine user's username.
            ClientAuth::Secret { client_id, secret } => match self.find_app(store, client_id).await? {
                Some(found) => Ok(Client::App(Box::new(verify_app_secret(found, secret)?))),
                None => {
                    let user = self.authenticate_machine(store, client_id, secret, self.clock_now()).await?;
                    Ok(Client::Machine(Box::new(user)))
                }
            },
        }
    }

    /// RFC 7662 §2.2: the introspection response for `token` asked by `app`.
    /// Inactive — `{"active": false}` and nothing else — for anything bad,
    /// unknown, expired, revoked or suspended, and for a token whose audience
    /// does not include the caller's project. PATs are the exception to the
    /// audience rule (ZITADEL semantics): any application of the instance may
    /// introspect them. The active response carries the user's roles on the
    /// caller's project.
    ///
    /// `token_type_hint` (RFC 7662 §2.1) needs no handling: the token's own
    /// prefix or shape says what it is, so a wrong hint still finds it.
    ///
    /// The answer is the serialized JSON body: an active one is built once and
    /// served from the cache until something changes.
    ///
    /// # Errors
    /// Only server errors; every token problem is an inactive answer.
    pub async fn introspect(
        &self,
        store: &dyn Store,
        validator: &Validator,
        app: &AppForAuth,
        token: &str,
    ) -> Result<Arc<str>, RepoError> {
        let resolved = match validator.resolve(store, token).await {
            Ok(r) => r,
            Err(AuthError::InvalidToken | AuthError::NotForApi) => {
                tracing::info!(
                    client_id = %app.app.client_id,
                    rule = "the token is malformed, unknown, expired or revoked, or its user is not active",
                    "introspection answered inactive"
                );
                return Ok(inactive());
            }
            Err(AuthError::Store(e)) => return Err(e),
        };
        let project = app.app.project_id;
        let is_pat = matches!(resolved.auth.credential, CredentialRef::Pat(_));
        if !is_pat && !resolved.has_audience(&project.to_string()) {
            // The most common surprise of a resource server: say what to do.
            tracing::info!(
                client_id = %app.app.client_id,
                rule = %format_args!(
                    "the token's audience does not include the caller's project; request it with the scope urn:zitadel:iam:org:project:id:{project}:aud"
                ),
                "introspection answered inactive"
            );
            return Ok(inactive());
        }
        let key = (credential_uuid(&resolved), project);
        let answers = self.caches.as_ref().map(|c| &c.answers);
        if let Some(hit) = answers.and_then(|a| a.get(&key)) {
            return Ok(hit);
        }
        let ticket = answers.map(EpochCache::ticket);
        let Some(user) = store.users().get(resolved.auth.user_id).await? else { return Ok(inactive()) };
        let mut body = Map::new();
        body.insert("active".into(), json!(true));
        body.insert("scope".into(), json!(resolved.scopes.join(" ")));
        // The client the grant named (user id for the JWT Profile, username for
        // client credentials); a PAT has none and answers with the username.
        body.insert("client_id".into(), json!(resolved.client_id.clone().unwrap_or_else(|| user.username.to_string())));
        body.insert("token_type".into(), json!("Bearer"));
        body.insert("exp".into(), json!(resolved.expires_at.timestamp()));
        body.insert("iat".into(), json!(resolved.issued_at.timestamp()));
        body.insert("nbf".into(), json!(resolved.issued_at.timestamp()));
        body.insert("sub".into(), json!(user.id));
        body.insert("aud".into(), json!(resolved.audience));
        body.insert("iss".into(), json!(self.config().issuer));
        body.insert("jti".into(), json!(credential_id(&resolved)));
        body.insert("username".into(), json!(user.username));
        if let Some(credential) = &resolved.federated_credential {
            body.insert(crate::grant::FEDERATED_CREDENTIAL_CLAIM.into(), json!(credential));
        }
        if let Some(scope) = &resolved.auth.scope {
            body.insert(PAT_SCOPE_CLAIM.into(), scope.to_json());
        }
        crate::claims::resource_owner(store, user.org_id, &mut body).await?;
        let grants = store.authorizations().user_roles_on_project(user.id, project).await?;
        roles::insert_role_claims(&mut body, &grants, &[project], &[]);
        let body: Arc<str> = Value::Object(body).to_string().into();
        if let (Some(answers), Some(ticket)) = (answers, ticket) {
            answers.insert(key, body.clone(), ticket);
        }
        Ok(body)
    }

    /// An application by client id (cached).
    async fn find_app(&self, store: &dyn Store, client_id: &str) -> Result<Option<AppForAuth>, RepoError> {
        let found = caches::through(self.caches.as_ref().map(|c| &c.apps), client_id.to_owned(), || async {
            store.applications().find_for_auth(client_id).await
        })
        .await?;
        Ok(found.map(|app| AppForAuth::clone(&app)))
    }

    /// RFC 7009 §2.1: revokes `token` when it was issued to (or is meant for)
    /// `client`. Unknown, invalid, foreign tokens and PATs (removed through the
    /// API, as in ZITADEL) are left alone; the caller answers 200 either way.
    ///
    /// # Errors
    /// Only server errors.
    pub async fn revoke(
        &self,
        store: &dyn Store,
        validator: &Validator,
        client: &Client,
        token: &str,
    ) -> Result<(), RepoError> {
        let resolved = match validator.resolve(store, token).await {
            Ok(r) => r,
            Err(AuthError::InvalidToken | AuthError::NotForApi) => return Ok(()),
            Err(AuthError::Store(e)) => return Err(e),
        };
        let (allowed, actor, client_id) = match client {
            // Both grants of a machine user issue to that user; its tokens carry
            // the username (client credentials) or the user id (JWT Profile) as
            // `client_id`, so the owner decides, never a name that another
            // user's id could equal. PATs (no client) are refused below.
            Client::Machine(user) => {
                let issued_to_it = resolved.client_id.is_some() && resolved.auth.user_id == user.id;
                (issued_to_it, Some(user.id), user.username.to_string())
            }
            // An application is no user: the audit event names it in its details.
            Client::App(app) => {
                (resolved.has_audience(&app.app.project_id.to_string()), None, app.app.client_id.clone())
            }
        };
        // PATs are removed through the API, never here (ZITADEL semantics).
        if !allowed || matches!(resolved.auth.credential, CredentialRef::Pat(_)) {
            return Ok(());
        }
        let now = self.clock_now();
        let tx = store.begin().await?;
        let id = match resolved.auth.credential {
            // Console sessions are never bearer credentials: `resolve` cannot
            // yield one; revoking nothing is the safe answer either way.
            CredentialRef::Pat(_) | CredentialRef::ConsoleSession(_) => return Ok(()),
            CredentialRef::AccessToken(id) => {
                match tx.access_tokens().delete(id).await {
                    Ok(()) | Err(RepoError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                id
            }
            CredentialRef::Jwt(id) => {
                let revoked = RevokedJwt::new(id.to_string(), resolved.expires_at)
                    .map_err(|e| RepoError::Database(Box::new(e)))?;
                tx.revoked_jwts().insert(&revoked).await?;
                id
            }
        };
        tx.audit()
            .append(
                &AuditEvent::new(now, actor, "token.revoked", "access_token", id, Some(resolved.auth.org_id))
                    .with_details(json!({"clientId": client_id})),
            )
            .await?;
        tx.commit().await
    }

    fn clock_now(&self) -> Timestamp {
        self.clock().now()
    }
}

/// `client_secret_basic`/`_post` for an application: a `tsr_cs_` secret compared
/// (constant time) with the stored digest; the application, its project and its
/// organization active.
fn verify_app_secret(found: AppForAuth, secret: &SecretString) -> Result<AppForAuth, GrantError> {
    let parsed = ParsedCredential::parse(Some(CredentialKind::ClientSecret), secret.expose_secret())
        .map_err(|_| {
            // Checked before any I/O: saying so leaks nothing.
            GrantError::InvalidClient(Refusal::public(
                "the client secret is malformed (not a tsr_cs_ secret, or its checksum fails): check that it was copied whole",
            ))
        })?;
    if !found.app.secret_digest.as_ref().is_some_and(|d| parsed.verify(d)) {
        return Err(GrantError::client("the client secret does not match the application's"));
    }
    if !found.is_active() {
        return Err(GrantError::client("the application, its project or its organization is not active"));
    }
    Ok(found)
}

/// RFC 7662 §2.2: the whole answer for a token that is not active.
#[must_use]
pub fn inactive() -> Arc<str> {
    Arc::from(r#"{"active":false}"#)
}

fn credential_id(r: &ResolvedToken) -> String {
    credential_uuid(r).to_string()
}

fn credential_uuid(r: &ResolvedToken) -> Uuid {
    match r.auth.credential {
        CredentialRef::Pat(id) => *id.as_uuid(),
        CredentialRef::AccessToken(id) | CredentialRef::Jwt(id) => *id.as_uuid(),
        CredentialRef::ConsoleSession(id) => *id.as_uuid(),
    }
}
