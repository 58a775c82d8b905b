//! `zitadel.webkey.v2.WebKeyService` (and its wire-identical v2beta): the
//! instance's signing keys (docs/operator/key-rotation.md), on every
//! transport like the rest of the API, with ZITADEL's REST paths for the two
//! methods that have them. The messages are the generated ones of
//! `proto/zitadel/webkey/v2`.
//!
//! - `CreateWebKey {rsa{bits, hasher} | ecdsa{curve} | ed25519{}}` → `{id,
//!   creationDate}`: no key kind means RSA 2048 with SHA-256, as in ZITADEL;
//!   an unspecified size, hasher or curve means 2048, SHA-256, P-256.
//!   `ECDSA_CURVE_P512` is refused (`invalid_argument`): Tessera signs ES256
//!   and ES384.
//! - `ActivateWebKey {id}` → `{changeDate}`
//! - `DeleteWebKey {id}` → `{deletionDate}` (absent for an unknown key,
//!   which succeeds as in ZITADEL; the active key is `failed_precondition`)
//! - `ListWebKeys {}` → `{webKeys: [{id, creationDate, changeDate, state,
//!   rsa | ecdsa | ed25519}]}`

use tessera_core::{Ctx, web_keys};
use tessera_domain::SigningKeyId;
use tessera_domain::signing_key::{SigningAlgorithm, WebKeyState};
use tessera_oauth::signing::KeyKind;
use tessera_proto::zitadel::webkey::v2 as pb;

use super::call::{Answer, Call, GatewayRoute, gateway_routes};
use super::v2::ts;
use crate::error::{ApiError, ServiceError};

/// The key kind a CreateWebKey request asks for.
fn kind(req: &pb::CreateWebKeyRequest) -> Result<KeyKind, ServiceError> {
    use pb::create_web_key_request::Key;
    let (algorithm, bits) = match &req.key {
        None => (SigningAlgorithm::Rs256, 2048),
        Some(Key::Rsa(rsa)) => {
            let bits = match pb::RsaBits::try_from(rsa.bits) {
                Ok(pb::RsaBits::Unspecified | pb::RsaBits::RsaBits2048) => 2048,
                Ok(pb::RsaBits::RsaBits3072) => 3072,
                Ok(pb::RsaBits::RsaBits4096) => 4096,
                Err(_) => return Err(ServiceError::invalid("rsa.bits must be RSA_BITS_2048, 3072 or 4096")),
            };
            let algorithm = match pb::RsaHasher::try_from(rsa.hasher) {
                Ok(pb::RsaHasher::Unspecified | pb::RsaHasher::Sha256) => SigningAlgorithm::Rs256,
                Ok(pb::RsaHasher::Sha384) => SigningAlgorithm::Rs384,
                Ok(pb::RsaHasher::Sha512) => SigningAlgorithm::Rs512,
                Err(_) => return Err(ServiceError::invalid("rsa.hasher must be RSA_HASHER_SHA256, 384 or 512")),
            };
            (algorithm, bits)
        }
        Some(Key::Ecdsa(ec)) => match pb::EcdsaCurve::try_from(ec.curve) {
            Ok(pb::EcdsaCurve::Unspecified | pb::EcdsaCurve::P256) => (SigningAlgorithm::Es256, 2048),
            Ok(pb::EcdsaCurve::P384) => (SigningAlgorithm::Es384, 2048),
            Ok(pb::EcdsaCurve::P512) => {
                return Err(ServiceError::invalid(
                    "ecdsa.curve ECDSA_CURVE_P512 is not supported; use ECDSA_CURVE_P256 or ECDSA_CURVE_P384",
                ));
            }
            Err(_) => return Err(ServiceError::invalid("ecdsa.curve must be ECDSA_CURVE_P256 or ECDSA_CURVE_P384")),
        },
        Some(Key::Ed25519(_)) => (SigningAlgorithm::EdDsa, 2048),
    };
    Ok(KeyKind::new(algorithm, bits)?)
}

/// A key's configuration as the WebKey message shows it.
fn wire_kind(key: &tessera_domain::signing_key::SigningKey) -> pb::web_key::Key {
    use pb::web_key::Key;
    match key.algorithm {
        SigningAlgorithm::EdDsa => Key::Ed25519(pb::Ed25519 {}),
        SigningAlgorithm::Es256 => Key::Ecdsa(pb::Ecdsa { curve: pb::EcdsaCurve::P256.into() }),
        SigningAlgorithm::Es384 => Key::Ecdsa(pb::Ecdsa { curve: pb::EcdsaCurve::P384.into() }),
        rsa => {
            let bits = match KeyKind::of(key).rsa_bits {
                3072 => pb::RsaBits::RsaBits3072,
                4096 => pb::RsaBits::RsaBits4096,
                _ => pb::RsaBits::RsaBits2048,
            };
            let hasher = match rsa {
                SigningAlgorithm::Rs384 => pb::RsaHasher::Sha384,
                SigningAlgorithm::Rs512 => pb::RsaHasher::Sha512,
                _ => pb::RsaHasher::Sha256,
            };
            Key::Rsa(pb::Rsa { bits: bits.into(), hasher: hasher.into() })
        }
    }
}

fn wire_state(state: WebKeyState) -> pb::State {
    match state {
        WebKeyState::Initial => pb::State::Initial,
        WebKeyState::Active => pb::State::Active,
        WebKeyState::Inactive => pb::State::Inactive,
        WebKeyState::Removed => pb::State::Removed,
    }
}

/// The key `id` names; `None` for an id that names no key Tessera could hold
/// (ZITADEL's ids are free-form strings).
fn key_id(id: &str) -> Result<Option<SigningKeyId>, ServiceError> {
    if id.trim().is_empty() {
        return Err(ServiceError::invalid("id is required"));
    }
    Ok(SigningKeyId::parse(id.trim()).ok())
}

async fn create_web_key(ctx: Ctx, req: pb::CreateWebKeyRequest) -> Result<pb::CreateWebKeyResponse, ApiError> {
    let kind = kind(&req)?;
    let key = web_keys::create(&ctx, kind).await?;
    Ok(pb::CreateWebKeyResponse { id: key.id.to_string(), creation_date: ts(key.created_at) })
}

async fn activate_web_key(ctx: Ctx, req: pb::ActivateWebKeyRequest) -> Result<pb::ActivateWebKeyResponse, ApiError> {
    let id = key_id(&req.id)?.ok_or_else(|| ServiceError::not_found("web key not found"))?;
    let key = web_keys::activate(&ctx, id).await?;
    Ok(pb::ActivateWebKeyResponse { change_date: ts(key.schedule.sign_from()) })
}

async fn delete_web_key(ctx: Ctx, req: pb::DeleteWebKeyRequest) -> Result<pb::DeleteWebKeyResponse, ApiError> {
    let deleted = web_keys::delete(&ctx, key_id(&req.id)?).await?;
    Ok(pb::DeleteWebKeyResponse { deletion_date: deleted.and_then(ts) })
}

async fn list_web_keys(ctx: Ctx, _req: pb::ListWebKeysRequest) -> Result<pb::ListWebKeysResponse, ApiError> {
    let keys = web_keys::list(&ctx).await?;
    Ok(pb::ListWebKeysResponse {
        web_keys: keys
            .iter()
            .map(|k| pb::WebKey {
                id: k.key.id.to_string(),
                creation_date: ts(k.key.created_at),
                change_date: ts(k.changed_at),
                state: wire_state(k.state).into(),
                key: Some(wire_kind(&k.key)),
            })
            .collect(),
    })
}

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateWebKey" => call.run(create_web_key).await,
        "ActivateWebKey" => call.run(activate_web_key).await,
        "DeleteWebKey" => call.run(delete_web_key).await,
        "ListWebKeys" => call.run(list_web_keys).await,
        _ => return None,
    })
}

/// ZITADEL's REST paths (v4.13.0): only these two methods have one.
const ROUTES: &[GatewayRoute] =
    &[("GET", "/v2/web_keys", "ListWebKeys"), ("DELETE", "/v2/web_keys/{id}", "DeleteWebKey")];

gateway_routes!(ROUTES, dispatch);
