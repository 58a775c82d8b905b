//! One failing case per rule of the module docs, and the matching of
//! credentials.

#![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone as _, Utc};
use jsonwebtoken::EncodingKey;
use serde_json::json;
use tessera_domain::federation::{Audience, ClaimCondition, Issuer, KeySource, Subject};
use tessera_domain::names::{Description, DisplayName};
use tessera_domain::{FederatedCredentialId, UserId};

use super::*;
use crate::keyfile::ParsedKeyFile;
use crate::keyfile::tests::{ec_pair, ed_pair, shared_pair};
use crate::signing::tests::{sealer, shared_keys};

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "https://id.example.com";
const SUBJECT: &str = "repo:acme/deploy:environment:production";

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap()
}

fn b64(v: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(v)
}

struct Keys {
    rsa: EncodingKey,
    other_rsa: EncodingKey,
    rsa_public_pem: String,
    ec: EncodingKey,
    ed: EncodingKey,
    set: JwkSet,
}

/// The issuer's keys: RSA (`rsa`, RS256), P-256 (`ec`) and Ed25519 (`ed`),
/// published as a JWKS; `other_rsa` is a key the issuer does not publish.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use p256::pkcs8::DecodePublicKey as _;
        use rsa::traits::PublicKeyParts as _;
        let pair = shared_pair();
        let file = pair.machine_key_file("k", tessera_domain::time::far_future(), "u").unwrap();
        let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
        let rsa_public_pem = pair.public_key().spki_pem().to_owned();
        let rsa_public = rsa::RsaPublicKey::from_public_key_pem(&rsa_public_pem).unwrap();
        let signing = &shared_keys()[0];
        let der = sealer().open(signing.id.to_string().as_bytes(), signing.sealed_private_key.as_bytes()).unwrap();
        let (ec_private, ec_public) = ec_pair();
        let ec_point = p256::PublicKey::from_public_key_pem(&ec_public).unwrap();
        let ec_point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&ec_point, false);
        let (ed_private, ed_public) = ed_pair();
        let ed_public = ed25519_dalek::VerifyingKey::from_public_key_pem(&ed_public).unwrap();
        let set = serde_json::from_value(json!({"keys": [
            {"kty": "RSA", "kid": "rsa", "use": "sig", "alg": "RS256",
             "n": b64(&rsa_public.n().to_bytes_be()), "e": b64(&rsa_public.e().to_bytes_be())},
            {"kty": "RSA", "kid": "rsa-any", "n": b64(&rsa_public.n().to_bytes_be()), "e": b64(&rsa_public.e().to_bytes_be())},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(ec_point.x().unwrap()), "y": b64(ec_point.y().unwrap())},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(ed_public.as_bytes())},
        ]}))
        .unwrap();
        Keys {
            rsa: EncodingKey::from_rsa_pem(parsed.private_key_pem.as_bytes()).unwrap(),
            other_rsa: EncodingKey::from_rsa_der(&der),
            rsa_public_pem,
            ec: EncodingKey::from_ec_der(&ec_private),
            ed: EncodingKey::from_ed_der(&ed_private),
            set,
        }
    })
}

/// The claims of a GitHub Actions token for the production environment.
fn claims() -> Value {
    let iat = now().timestamp() - 60;
    json!({
        "iss": GITHUB, "sub": SUBJECT, "aud": AUDIENCE, "iat": iat, "nbf": iat, "exp": iat + 300,
        "jti": "5f0c1d2e", "repository": "acme/deploy", "repository_owner": "acme",
        "ref": "refs/heads/main", "environment": "production", "run_attempt": 1,
    })
}

fn jws(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{sig}")
}

fn rs256(claims: &Value) -> String {
    jws(&json!({"alg": "RS256", "typ": "JWT", "kid": "rsa"}), claims, &keys().rsa, Algorithm::RS256)
}

fn verify(token: &str) -> Result<VerifiedExternal, FederationError> {
    parse_external(token)?.verify(&keys().set, &FederationPolicy::default(), now())
}

fn credential(subject: &str, conditions: &[(&str, &str)]) -> FederatedCredential {
    FederatedCredential {
        id: FederatedCredentialId::new(),
        user_id: UserId::new(),
        name: DisplayName::parse("name", "deploy").unwrap(),
        description: Description::parse("").unwrap(),
        issuer: Issuer::parse(GITHUB).unwrap(),
        key_source: KeySource::Discovery,
        subject: Subject::parse(subject).unwrap(),
        audience: Audience::parse(AUDIENCE).unwrap(),
        conditions: conditions.iter().map(|(c, p)| ClaimCondition::parse(c, p).unwrap()).collect(),
        created_at: now(),
        updated_at: now(),
    }
}

#[test]
fn tokens_of_every_allowed_algorithm_verify() {
    let k = keys();
    let c = claims();
    let tokens = [
        rs256(&c),
        jws(&json!({"alg": "PS256", "kid": "rsa-any"}), &c, &k.rsa, Algorithm::PS256),
        jws(&json!({"alg": "RS384", "kid": "rsa-any"}), &c, &k.rsa, Algorithm::RS384),
        jws(&json!({"alg": "ES256", "kid": "ec"}), &c, &k.ec, Algorithm::ES256),
        jws(&json!({"alg": "EdDSA", "kid": "ed"}), &c, &k.ed, Algorithm::EdDSA),
        // Without a kid, every key that fits the algorithm is tried.
        jws(&json!({"alg": "ES256"}), &c, &k.ec, Algorithm::ES256),
    ];
    for token in tokens {
        let v = verify(&token).unwrap();
        assert_eq!((v.issuer.as_str(), v.subject.as_str(), v.jti.as_deref()), (GITHUB, SUBJECT, Some("5f0c1d2e")));
        assert_eq!(v.expires_at.timestamp(), now().timestamp() + 240);
    }
}

#[test]
fn malformed_and_oversized_tokens_are_refused() {
    assert_eq!(parse_external(&"a".repeat(MAX_TOKEN_LEN + 1)).unwrap_err(), FederationError::TooLarge);
    for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!", &format!("{}.e30.sig", b64(b"[]"))] {
        assert_eq!(parse_external(bad).unwrap_err(), FederationError::Malformed, "{bad}");
    }
    // A claim given twice cannot mean two things.
    let header = b64(br#"{"alg":"RS256","kid":"rsa"}"#);
    let body = b64(format!(r#"{{"iss":"{GITHUB}","sub":"a","sub":"b"}}"#).as_bytes());
    assert_eq!(parse_external(&format!("{header}.{body}.c2ln")).unwrap_err(), FederationError::Malformed);
}

#[test]
fn unsigned_hmac_and_unlisted_algorithms_are_refused() {
    let c = claims();
    let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(c.to_string().as_bytes()));
    assert_eq!(parse_external(&none).unwrap_err(), FederationError::Unsigned);
    let empty_sig = format!("{}.{}.", b64(br#"{"alg":"RS256"}"#), b64(c.to_string().as_bytes()));
    assert_eq!(parse_external(&empty_sig).unwrap_err(), FederationError::Unsigned);
    // HS256 keyed with the issuer's public key, the classic confusion.
    let hmac = EncodingKey::from_secret(keys().rsa_public_pem.as_bytes());
    let confused = jws(&json!({"alg": "HS256", "kid": "rsa"}), &c, &hmac, Algorithm::HS256);
    assert_eq!(verify(&confused).unwrap_err(), FederationError::AlgorithmNotAllowed);
    let ps512 = jws(&json!({"alg": "PS512", "kid": "rsa-any"}), &c, &keys().rsa, Algorithm::PS512);
    assert_eq!(verify(&ps512).unwrap_err(), FederationError::AlgorithmNotAllowed);
}

#[test]
fn tokens_that_name_their_own_key_are_refused() {
    let c = claims();
    for member in ["jwk", "jku", "x5u", "x5c"] {
        let mut header = json!({"alg": "RS256", "kid": "rsa"});
        header[member] = json!("https://attacker.example/jwks");
        let token = jws(&header, &c, &keys().rsa, Algorithm::RS256);
        assert_eq!(verify(&token).unwrap_err(), FederationError::EmbeddedKey, "{member}");
    }
    let crit = jws(&json!({"alg": "RS256", "kid": "rsa", "crit": ["exp"]}), &c, &keys().rsa, Algorithm::RS256);
    assert_eq!(verify(&crit).unwrap_err(), FederationError::CriticalHeader);
}

#[test]
fn keys_must_be_the_issuers_and_fit_the_algorithm() {
    let k = keys();
    let c = claims();
    let unknown = jws(&json!({"alg": "RS256", "kid": "rotated-away"}), &c, &k.rsa, Algorithm::RS256);
    assert_eq!(verify(&unknown).unwrap_err(), FederationError::UnknownKey);
    // An EC signature under the RSA key's kid, and the RSA key's own `alg`
    // (RS256) against RS384.
    let ec_as_rsa = jws(&json!({"alg": "ES256", "kid": "rsa"}), &c, &k.ec, Algorithm::ES256);
    assert_eq!(verify(&ec_as_rsa).unwrap_err(), FederationError::AlgorithmKeyMismatch);
    let wrong_alg = jws(&json!({"alg": "RS384", "kid": "rsa"}), &c, &k.rsa, Algorithm::RS384);
    assert_eq!(verify(&wrong_alg).unwrap_err(), FederationError::AlgorithmKeyMismatch);
    let ed_as_ec = jws(&json!({"alg": "EdDSA", "kid": "ec"}), &c, &k.ed, Algorithm::EdDSA);
    assert_eq!(verify(&ed_as_ec).unwrap_err(), FederationError::AlgorithmKeyMismatch);
    let es384 = jws(&json!({"alg": "ES384"}), &c, &k.ec, Algorithm::ES256);
    assert_eq!(verify(&es384).unwrap_err(), FederationError::AlgorithmKeyMismatch);
    // Signed by a key the issuer does not publish.
    let forged = jws(&json!({"alg": "RS256", "kid": "rsa"}), &c, &k.other_rsa, Algorithm::RS256);
    assert_eq!(verify(&forged).unwrap_err(), FederationError::BadSignature);
    // An empty key set knows no key.
    let empty = JwkSet { keys: vec![] };
    let token = jws(&json!({"alg": "ES256"}), &c, &k.ec, Algorithm::ES256);
    let err = parse_external(&token).unwrap().verify(&empty, &FederationPolicy::default(), now()).unwrap_err();
    assert_eq!(err, FederationError::UnknownKey);
}

#[test]
fn small_rsa_and_encryption_keys_fit_nothing() {
    let small: Jwk = serde_json::from_value(json!({"kty": "RSA", "n": b64(&[0xc5; 128]), "e": "AQAB"})).unwrap();
    assert!(!fits(&small, Algorithm::RS256));
    let big: Jwk = serde_json::from_value(json!({"kty": "RSA", "n": b64(&[0xc5; 256]), "e": "AQAB"})).unwrap();
    assert!(fits(&big, Algorithm::RS256) && fits(&big, Algorithm::PS256) && !fits(&big, Algorithm::ES256));
    let enc: Jwk =
        serde_json::from_value(json!({"kty": "RSA", "use": "enc", "n": b64(&[0xc5; 256]), "e": "AQAB"})).unwrap();
    assert!(!fits(&enc, Algorithm::RS256));
}

/// A change to a token's claims.
type Change<'a> = dyn Fn(&mut Value) + 'a;

#[test]
fn time_claims_are_enforced_with_the_skew() {
    let token = |f: &Change<'_>| {
        let mut c = claims();
        f(&mut c);
        rs256(&c)
    };
    let t = now().timestamp();
    let cases: [(&Change<'_>, FederationError); 7] = [
        (&|c| c["exp"] = json!(t - 31), FederationError::Expired),
        (&|c| drop(c.as_object_mut().unwrap().remove("exp")), FederationError::MissingExpiry),
        (&|c| c["nbf"] = json!(t + 31), FederationError::NotYetValid),
        (&|c| drop(c.as_object_mut().unwrap().remove("iat")), FederationError::MissingIssuedAt),
        (&|c| c["iat"] = json!(t + 31), FederationError::IssuedInFuture),
        (&|c| c["iat"] = json!(t - 3600 - 31), FederationError::TooOld),
        (&|c| c["jti"] = json!(""), FederationError::InvalidJti),
    ];
    for (change, expected) in cases {
        assert_eq!(verify(&token(change)).unwrap_err(), expected);
    }
    // Within the skew.
    assert!(verify(&token(&|c| c["exp"] = json!(t - 29))).is_ok());
    assert!(verify(&token(&|c| c["nbf"] = json!(t + 29))).is_ok());
    let no_iss = token(&|c| drop(c.as_object_mut().unwrap().remove("iss")));
    assert_eq!(parse_external(&no_iss).unwrap().issuer().unwrap_err(), FederationError::UntrustedIssuer);
}

#[test]
fn exactly_one_credential_must_match_subject_audience_and_conditions() {
    let v = verify(&rs256(&claims())).unwrap();
    let ok = credential(SUBJECT, &[("repository_owner", "acme"), ("ref", "refs/heads/*"), ("run_attempt", "1")]);
    assert_eq!(v.select(std::slice::from_ref(&ok)).unwrap().id, ok.id);

    let other_subject = credential("repo:acme/deploy:environment:staging", &[]);
    let unmet = credential(SUBJECT, &[("ref", "refs/tags/*")]);
    let missing = credential(SUBJECT, &[("workflow", "*")]);
    let not_text = credential(SUBJECT, &[("nothing", "*")]);
    let mut other_audience = credential(SUBJECT, &[]);
    other_audience.audience = Audience::parse("https://elsewhere.example").unwrap();
    let mut other_issuer = credential(SUBJECT, &[]);
    other_issuer.issuer = Issuer::parse("https://gitlab.example").unwrap();
    for c in [&other_subject, &unmet, &missing, &not_text, &other_audience, &other_issuer] {
        assert_eq!(v.select(std::slice::from_ref(c)).unwrap_err(), FederationError::NoMatch, "{c:?}");
    }
    let twin = credential(SUBJECT, &[("environment", "production")]);
    assert_eq!(v.select(&[ok.clone(), twin]).unwrap_err(), FederationError::Ambiguous);
    assert_eq!(v.select(&[unmet, ok.clone()]).unwrap().id, ok.id);
}

/// Kubernetes nests its claims under `kubernetes.io`, a member name with a
/// dot; `aud` is an array.
#[test]
fn kubernetes_claims_are_reached_through_dotted_member_names() {
    let t = now().timestamp();
    let c = json!({
        "iss": GITHUB, "sub": "system:serviceaccount:ci:deployer", "aud": ["https://kubernetes.default.svc", AUDIENCE],
        "iat": t, "exp": t + 3600,
        "kubernetes.io": {"namespace": "ci", "serviceaccount": {"name": "deployer", "uid": "7b2f"}},
    });
    let v = verify(&jws(&json!({"alg": "ES256", "kid": "ec"}), &c, &keys().ec, Algorithm::ES256)).unwrap();
    let ok = credential(
        "system:serviceaccount:ci:deployer",
        &[("kubernetes.io.namespace", "ci"), ("kubernetes.io.serviceaccount.name", "deploy*")],
    );
    assert!(v.meets(&ok));
    let other_ns = credential("system:serviceaccount:ci:deployer", &[("kubernetes.io.namespace", "prod")]);
    assert!(!v.meets(&other_ns));
    let object = credential("system:serviceaccount:ci:deployer", &[("kubernetes.io", "*")]);
    assert!(!v.meets(&object), "an object has no text");
}

#[test]
fn inline_key_sets_hold_public_signing_keys_only() {
    let good = serde_json::to_string(&keys().set).unwrap();
    assert_eq!(parse_inline_jwks(&good).unwrap().keys.len(), 4);
    for bad in [
        "not json",
        r#"{"keys": []}"#,
        r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
        &format!(r#"{{"keys": [{{"kty": "RSA", "n": "{}", "e": "AQAB"}}]}}"#, b64(&[0xc5; 128])),
        &format!(r#"{{"keys": [{{"kty": "RSA", "n": "{}", "e": "AQAB", "d": "AQAB"}}]}}"#, b64(&[0xc5; 256])),
    ] {
        assert!(parse_inline_jwks(bad).is_err(), "{bad}");
    }
}

#[test]
fn errors_never_quote_the_token_and_hide_which_credential_was_near() {
    for e in [FederationError::UntrustedIssuer, FederationError::NoMatch, FederationError::Ambiguous] {
        assert_eq!(e.description(), "no federated credential accepts the token");
    }
    assert_eq!(FederationError::Expired.description(), "the token has expired");
}
