//! The fuzz targets: one function per parser an attacker reaches (issue 16),
//! each taking the fuzzer's bytes. `fuzz_targets/*.rs` hand them to libFuzzer
//! (`cargo xtask fuzz`); `tests/corpus.rs` replays the committed seed corpora
//! through them in `cargo test`. docs/security/fuzzing.md has the commands and figures.
//!
//! A target fails by panicking: a parser that panics, or an answer that breaks
//! one of the properties checked here (a bounded error message that never
//! repeats its input).

use std::collections::HashMap;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::{Duration, TimeZone as _, Utc};
use tessera_domain::OrgId;
use tessera_domain::machine_key::PublicKeyType;
use tessera_oauth::assertion::{AssertionPolicy, CandidateKey};
use tessera_oauth::credential::{CredentialKind, ParsedCredential};

/// A target: the fuzzer's bytes in, a panic on failure.
pub type Target = fn(&[u8]);

/// Every target by name (the `[[bin]]` names of fuzz/Cargo.toml and the
/// folders under fuzz/corpus/).
pub const TARGETS: &[(&str, Target)] = &[
    ("credential", credential),
    ("jwt", jwt),
    ("keyfile", keyfile),
    ("oauth_form", oauth_form),
    ("connect_json", connect_json),
    ("binary_call", binary_call),
    ("list_query", list_query),
    ("config", config),
];

/// The longest error message any parser may give: errors name a field or a
/// rule, never repeat what they were given.
const MAX_MESSAGE: usize = 512;

/// The issuer every target pretends to be.
const ISSUER: &str = "https://issuer.example";

/// A fixed instant, so that a crash reproduces.
fn now() -> tessera_domain::Timestamp {
    Utc.timestamp_opt(1_800_000_000, 0).single().unwrap_or_default()
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Splits at the first newline: a header-like first line and a body.
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn check_message(message: &str) {
    assert!(message.len() <= MAX_MESSAGE, "an error message of {} bytes", message.len());
}

/// Opaque credentials (`tsr_pat_…`, `tsr_at_…`, `tsr_cs_…`, `tsr_sess_…`):
/// parsed as any kind and as each kind.
pub fn credential(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let kinds = [
        None,
        Some(CredentialKind::Pat),
        Some(CredentialKind::AccessToken),
        Some(CredentialKind::ClientSecret),
        Some(CredentialKind::ConsoleSession),
    ];
    for expected in kinds {
        if let Ok(parsed) = ParsedCredential::parse(expected, s) {
            // A parsed credential names the kind it was asked for.
            if let Some(kind) = expected {
                assert_eq!(parsed.kind(), kind);
            }
        }
    }
}

/// JWTs: the JWT Profile / client assertion (RFC 7523) up to and through
/// signature and claim checks against fixed keys, and JWT access tokens.
pub fn jwt(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let _ = tessera_oauth::jwt_access_token::unverified_id(s);
    let _ = tessera_oauth::jwt_access_token::verify(s, &[], ISSUER, now(), Duration::seconds(5));
    let Ok(assertion) = tessera_oauth::assertion::parse_assertion(s) else { return };
    let keys = [
        CandidateKey {
            kid: "ec".to_owned(),
            key_type: PublicKeyType::EcP256,
            public_key_pem: include_str!("fixed_p256.pub.pem").to_owned(),
            expires_at: now() + Duration::days(1),
        },
        CandidateKey {
            kid: "rsa".to_owned(),
            key_type: PublicKeyType::Rsa,
            public_key_pem: include_str!("fixed_rsa.pub.pem").to_owned(),
            expires_at: now() + Duration::days(1),
        },
    ];
    let policy = AssertionPolicy::new(ISSUER, format!("{ISSUER}/oauth/v2/token"));
    let _ = assertion.verify("principal", &keys, &policy, now());
}

/// Key files (ZITADEL's JSON with an RSA private key) and uploaded public keys
/// (SPKI PEM of RSA, P-256 or Ed25519).
pub fn keyfile(data: &[u8]) {
    let _ = tessera_oauth::keyfile::ParsedKeyFile::parse(data);
    if let Some(s) = text(data) {
        let _ = tessera_oauth::keyfile::parse_public_key_pem(s);
    }
}

/// The token endpoint's form body (RFC 6749 §3.2, repeated parameters
/// refused) with an `Authorization` header (the first line: Basic client
/// authentication, RFC 6749 §2.3.1), and the scope parameter.
pub fn oauth_form(data: &[u8]) {
    let (header, body) = split_line(data);
    let form = match tessera_http::oauth::form::Form::parse(body) {
        Ok(form) => form,
        Err(e) => return check_message(&e.to_string()),
    };
    let mut req = actix_web::test::TestRequest::default();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(header) {
        req = req.insert_header((actix_web::http::header::AUTHORIZATION, value));
    }
    let req = req.to_http_request();
    if let Err(e) = tessera_http::oauth::form::client_secret(&req, &form) {
        check_message(&e.to_string());
    }
    let _ = tessera_http::oauth::form::client_id_hint(&req, &form);
    if let Some(scope) = form.get("scope") {
        let _ = tessera_oauth::scope::Scopes::parse(scope, OrgId::from_uuid(uuid::Uuid::nil()));
    }
}

/// Connect JSON request bodies of every method: the first line names the
/// method (`zitadel.user.v2.UserService/ListUsers`), the rest is the body. The
/// body is decoded through the API's own dispatch table, exactly as a call
/// would be before it is authenticated.
pub fn connect_json(data: &[u8]) {
    let (path, body) = split_line(data);
    let Some(path) = text(path) else { return };
    let Some((service, method)) = path.split_once('/') else { return };
    decode_request(service, method, body, false);
}

/// Decodes `body` as the request of `service`/`method` through the API's
/// dispatch table ([`tessera_http::api::connect::decode_request`]); an error
/// must be a clean message.
fn decode_request(service: &str, method: &str, body: &[u8], binary: bool) {
    let decoded = pin!(tessera_http::api::connect::decode_request(service, method, body, binary));
    // Decoding never waits for anything: one poll finishes it.
    let Poll::Ready(result) = decoded.poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("decoding {service}/{method} did not finish in one poll");
    };
    if let Some(Err(e)) = result {
        check_message(&e.message);
    }
}

/// A binary API call (docs/architecture.md, "One API, four transports"): the
/// first byte picks the protocol (Connect binary, gRPC, gRPC-web, gRPC-web
/// text), the first line names `service/method`, the rest is the body. The
/// envelope is opened and the message decoded as a real call would (its shape
/// bounds, then the generated message), before authentication; the method's
/// codec (which tests and clients use) must read back what it writes.
pub fn binary_call(data: &[u8]) {
    use tessera_http::api::protocol::Protocol;
    let Some((&mode, rest)) = data.split_first() else { return };
    let (path, body) = split_line(rest);
    let protocol = match mode % 4 {
        0 => Protocol::ConnectProto,
        1 => Protocol::Grpc,
        2 => Protocol::GrpcWeb { text: false },
        _ => Protocol::GrpcWeb { text: true },
    };
    let message = match protocol.open(body) {
        Ok(message) => message,
        Err(e) => return check_message(&e.message),
    };
    let Some((service, method)) = text(path).and_then(|p| p.split_once('/')) else { return };
    let Some(m) = tessera_proto::method(service, method) else { return };
    decode_request(service, method, &message, true);
    let json = match m.codec.request_to_json(&message) {
        Ok(json) => json,
        Err(e) => return check_message(&e.to_string()),
    };
    // What the codec writes, the codec reads back to the same message.
    match m.codec.request_to_binary(&json).and_then(|again| m.codec.request_to_json(&again)) {
        Ok(back) => assert_eq!(back, json, "the codec's JSON reads back to another message"),
        Err(e) => panic!("the codec does not read its own JSON: {e}"),
    }
}

/// `ListUsers` query trees (`andQuery`, `orQuery`, `notQuery` and the leaf
/// queries), offsets and limits, up to the filters handed to the repository.
pub fn list_query(data: &[u8]) {
    use tessera_http::api::user::{ListUsersRequest, list_users_query};
    match tessera_http::api::call::decode::<ListUsersRequest>(data) {
        Ok(req) => {
            if let Err(e) = list_users_query(&req) {
                check_message(&e.message);
            }
        }
        Err(e) => check_message(&e.message),
    }
}

/// The configuration: a TOML file (first byte even) or `TESSERA_*`
/// environment variables, one `NAME=value` per line (first byte odd).
pub fn config(data: &[u8]) {
    use tessera_server::settings::Settings;
    let Some((&mode, rest)) = data.split_first() else { return };
    let Some(rest) = text(rest) else { return };
    let result = if mode % 2 == 0 {
        Settings::from_text(Some((rest, "fuzz.toml")), HashMap::new())
    } else {
        let env = rest
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<HashMap<_, _>>();
        Settings::from_text(None, env)
    };
    match result {
        Ok(settings) => {
            let _ = settings.trusted_proxies();
            let _ = settings.rotation_policy();
            let _ = settings.rate_policy();
            let _ = settings.cache_policy();
        }
        // Names the offending key, which may be the fuzzer's own: no bound.
        Err(e) => drop(e),
    }
}
