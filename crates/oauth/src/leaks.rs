//! Leaked credentials (docs/pat-hygiene.md): a token reported as found in
//! public — by a secret-scanning partner or by anyone who holds it — is
//! revoked at once if it is a genuine Tessera credential.
//!
//! "Genuine" means stored and matching: its lookup id finds a row and the
//! digest of the whole token matches. Expired tokens and tokens of inactive
//! users count too: a leaked credential is removed even if it does not work
//! today, so that reactivating its user does not bring it back. What is
//! removed: a PAT (its row), an opaque access token (its row), a machine
//! user's client secret (every secret of that user, as `RemoveSecret` does).
//! Each removal writes the audit event `credential.leaked`.

use serde_json::{Value, json};
use tessera_domain::audit::AuditEvent;
use tessera_domain::repo::{RepoError, Store};
use tessera_domain::{AccessTokenId, OrgId, PatId, SecretId, Timestamp, UserId};

use crate::credential::{CredentialKind, ParsedCredential};

/// What a report found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A genuine Tessera credential; it has been revoked.
    Revoked(CredentialKind),
    /// Not a Tessera credential, or one that no longer exists.
    NotOurs,
}

/// The audit target of a revoked credential.
fn target(kind: CredentialKind) -> &'static str {
    match kind {
        CredentialKind::Pat => "personal_access_token",
        CredentialKind::AccessToken => "access_token",
        CredentialKind::ClientSecret => "machine_secret",
        CredentialKind::ConsoleSession => "console_session",
    }
}

/// Revokes `token` if it is a genuine credential, with an audit event carrying
/// `details` (where it was found; never the token). Answers the same work for
/// a malformed token as for an unknown one: nothing.
///
/// # Errors
/// Database errors only.
pub async fn revoke_leaked(
    store: &dyn Store,
    now: Timestamp,
    token: &str,
    details: Value,
) -> Result<Verdict, RepoError> {
    let Ok(parsed) = ParsedCredential::parse(None, token) else { return Ok(Verdict::NotOurs) };
    let kind = parsed.kind();
    // Looked up outside any transaction: a flood of well-formed but unknown
    // tokens costs point reads, never the writer.
    let found: Option<(Removal, UserId, OrgId)> = match kind {
        CredentialKind::Pat => {
            let id = PatId::from_uuid(parsed.id());
            match store.pats().find_for_auth(id).await? {
                Some((pat, owner)) if parsed.verify(&pat.digest) => {
                    Some((Removal::Pat(id), owner.user_id, owner.org_id))
                }
                _ => None,
            }
        }
        CredentialKind::AccessToken => {
            let id = AccessTokenId::from_uuid(parsed.id());
            match store.access_tokens().find_for_auth(id).await? {
                Some((at, owner)) if parsed.verify(&at.digest) => {
                    Some((Removal::AccessToken(id), owner.user_id, owner.org_id))
                }
                _ => None,
            }
        }
        CredentialKind::ClientSecret => {
            let id = SecretId::from_uuid(parsed.id());
            match store.machine_secrets().find_for_auth(id).await? {
                Some(found) if parsed.verify(&found.secret.digest) => {
                    Some((Removal::Secret(id), found.owner.user_id, found.owner.org_id))
                }
                _ => None,
            }
        }
        // Console sessions are cookies, never reported; nothing to do.
        CredentialKind::ConsoleSession => None,
    };
    let Some((removal, user, org)) = found else { return Ok(Verdict::NotOurs) };
    let tx = store.begin().await?;
    // Removed meanwhile (by an administrator or another report): gone either way.
    let gone = |r: Result<(), RepoError>| match r {
        Ok(()) | Err(RepoError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    };
    let id = match removal {
        Removal::Pat(id) => {
            gone(tx.pats().delete(id).await)?;
            id.to_string()
        }
        Removal::AccessToken(id) => {
            gone(tx.access_tokens().delete(id).await)?;
            id.to_string()
        }
        Removal::Secret(id) => {
            // Removing a user's secrets removes them all: only while the
            // reported one is still among them, so that a secret generated
            // after the lookup is not taken with it.
            if tx.machine_secrets().find_for_auth(id).await?.is_some() {
                tx.machine_secrets().delete_for_user(user).await?;
            }
            id.to_string()
        }
    };
    let mut details = details;
    if let Value::Object(map) = &mut details {
        map.insert("userId".into(), json!(user));
    }
    tx.audit()
        .append(&AuditEvent::new(now, None, "credential.leaked", target(kind), id, Some(org)).with_details(details))
        .await?;
    tx.commit().await?;
    Ok(Verdict::Revoked(kind))
}

/// What a genuine leaked credential's revocation removes.
enum Removal {
    Pat(PatId),
    AccessToken(AccessTokenId),
    Secret(SecretId),
}

/// The ECDSA P-256 public keys a secret-scanning partner signs its reports
/// with, by identifier: GitHub's `{"public_keys": [{"key_identifier", "key"}]}`
/// (`https://api.github.com/meta/public_keys/secret_scanning`).
#[derive(Debug, Clone, Default)]
pub struct PartnerKeys(Vec<(String, Vec<u8>)>);

/// At most this many keys are read from a key list.
const MAX_PARTNER_KEYS: usize = 50;

impl PartnerKeys {
    /// Parses a key list: every entry needs a `key_identifier` and a PEM
    /// `key` holding a P-256 public key.
    ///
    /// # Errors
    /// A message naming what is wrong (no key material is ever in it).
    pub fn parse(json: &[u8]) -> Result<Self, String> {
        let doc: Value = serde_json::from_slice(json).map_err(|e| format!("the key list is not JSON: {e}"))?;
        let list = doc.get("public_keys").and_then(Value::as_array).ok_or("the key list has no public_keys array")?;
        if list.len() > MAX_PARTNER_KEYS {
            return Err(format!("the key list holds more than {MAX_PARTNER_KEYS} keys"));
        }
        let mut keys = Vec::with_capacity(list.len());
        for entry in list {
            let id = entry.get("key_identifier").and_then(Value::as_str).ok_or("a key has no key_identifier")?;
            let pem = entry.get("key").and_then(Value::as_str).ok_or("a key has no PEM key")?;
            let key = <p256::PublicKey as p256::pkcs8::DecodePublicKey>::from_public_key_pem(pem)
                .map_err(|_| format!("key {id} is not a P-256 public key in PEM"))?;
            let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key, false);
            keys.push((id.to_owned(), point.as_bytes().to_vec()));
        }
        Ok(Self(keys))
    }

    /// Whether the key list names `id`.
    #[must_use]
    pub fn knows(&self, id: &str) -> bool {
        self.0.iter().any(|(k, _)| k == id)
    }

    /// Whether `signature` (base64 of an ASN.1 DER ECDSA signature, as in
    /// `Github-Public-Key-Signature`) signs `body` under the key `id`.
    #[must_use]
    pub fn verify(&self, id: &str, signature: &str, body: &[u8]) -> bool {
        use base64::Engine as _;
        let Some((_, point)) = self.0.iter().find(|(k, _)| k == id) else { return false };
        let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
            .verify(body, &der)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]
    use super::*;
    use base64::Engine as _;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

    #[test]
    fn a_report_verifies_only_under_its_key_and_body() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let public = p256::PublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
        let pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(&public, p256::pkcs8::LineEnding::LF).unwrap();
        let list = json!({"public_keys": [{"key_identifier": "k1", "key": pem, "is_current": true}]});
        let keys = PartnerKeys::parse(list.to_string().as_bytes()).unwrap();
        let body = br#"[{"token":"x","type":"tessera_pat","url":"https://example.com","source":"content"}]"#;
        let sig = base64::engine::general_purpose::STANDARD.encode(pair.sign(&rng, body).unwrap());
        assert!(keys.verify("k1", &sig, body));
        assert!(!keys.verify("k2", &sig, body), "another key id");
        assert!(!keys.verify("k1", &sig, b"[]"), "another body");
        assert!(!keys.verify("k1", "not base64!", body));
        for bad in [
            json!({}),
            json!({"public_keys": [{"key_identifier": "k"}]}),
            json!({"public_keys": [{"key_identifier": "k", "key": "PEM"}]}),
        ] {
            assert!(PartnerKeys::parse(bad.to_string().as_bytes()).is_err(), "{bad}");
        }
    }
}
