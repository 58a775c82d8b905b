//! Tessera's API as protobuf (docs/architecture.md, "One API, four
//! transports"). The `.proto` files under `proto/` are the definition; this
//! crate holds what `build.rs` generates from them at build time:
//!
//! - one Rust module per proto package (`zitadel::user::v2`, …), with prost's
//!   binary encoding and pbjson's proto3 JSON mapping on every message;
//! - [`METHODS`], every `rpc` with its request and response type: the shape
//!   of its request message ([`shape`]), which bounds a binary request before
//!   it decodes, and a codec between binary protobuf and proto3 JSON for tests,
//!   fuzzing and clients. The server never converts one codec into the other:
//!   handlers decode and encode the generated messages in the codec a call
//!   came in.

include!(concat!(env!("OUT_DIR"), "/modules.rs"));

mod duration;
pub mod shape;
mod timestamp;
pub use duration::Duration;
pub use timestamp::Timestamp;

use std::marker::PhantomData;

/// The other well-known types (`google.protobuf.Empty`, …) the messages use.
pub use pbjson_types;

/// One `rpc`: its fully qualified service name, its method name and the codec
/// of its two messages.
pub struct Method {
    /// `zitadel.user.v2.UserService`.
    pub service: &'static str,
    /// `GetUserByID`.
    pub name: &'static str,
    /// Converts the method's messages between binary protobuf and JSON.
    pub codec: &'static dyn Transcode,
    /// The request message's shape, for the bounds a binary request is
    /// checked against before it decodes ([`shape`]).
    pub request_shape: &'static shape::Shape,
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.service, self.name)
    }
}

/// Why a message did not convert. Never carries the input's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscodeError {
    /// The request is not a valid binary encoding of the method's request
    /// message (the decoder's description, which names fields, not values).
    Request(String),
    /// A JSON answer does not fit the response message. The reason is for
    /// the log.
    Response(String),
}

impl std::fmt::Display for TranscodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(reason) => write!(f, "the request is not a valid protobuf message ({reason})"),
            Self::Response(reason) => write!(f, "the response does not fit its protobuf message ({reason})"),
        }
    }
}

impl std::error::Error for TranscodeError {}

/// Binary ⇄ JSON conversion of one method's request and response.
pub trait Transcode: Sync {
    /// A binary request as the JSON object a Connect JSON client sends.
    ///
    /// # Errors
    /// [`TranscodeError::Request`] when `body` does not decode.
    fn request_to_json(&self, body: &[u8]) -> Result<Vec<u8>, TranscodeError>;

    /// A JSON request (Connect JSON or REST) as binary: the inverse of
    /// [`Transcode::request_to_json`], for clients and tests.
    ///
    /// # Errors
    /// [`TranscodeError::Request`] when `json` does not fit the message.
    fn request_to_binary(&self, json: &[u8]) -> Result<Vec<u8>, TranscodeError>;

    /// A JSON answer as the binary response message (the transport test
    /// checks with it that a Connect JSON answer fits the proto).
    ///
    /// # Errors
    /// [`TranscodeError::Response`] when the answer does not fit the message.
    fn response_to_binary(&self, json: &[u8]) -> Result<Vec<u8>, TranscodeError>;

    /// A binary response as JSON: the inverse of
    /// [`Transcode::response_to_binary`], for clients and tests.
    ///
    /// # Errors
    /// [`TranscodeError::Response`] when `body` does not decode.
    fn response_to_json(&self, body: &[u8]) -> Result<Vec<u8>, TranscodeError>;
}

/// The [`Transcode`] of a method whose request is `Req` and response `Res`.
pub struct Codec<Req, Res>(PhantomData<fn() -> (Req, Res)>);

impl<Req, Res> Codec<Req, Res> {
    /// The codec (a zero-sized value, for the static table).
    pub const NEW: Self = Self(PhantomData);
}

/// Decodes binary protobuf into `M` and writes it as proto3 JSON.
fn binary_to_json<M>(body: &[u8], err: fn(String) -> TranscodeError) -> Result<Vec<u8>, TranscodeError>
where
    M: prost::Message + Default + serde::Serialize,
{
    let message = M::decode(body).map_err(|e| err(e.to_string()))?;
    serde_json::to_vec(&message).map_err(|e| err(e.to_string()))
}

/// Reads proto3 JSON into `M` and encodes it as binary protobuf.
fn json_to_binary<M>(json: &[u8], err: fn(String) -> TranscodeError) -> Result<Vec<u8>, TranscodeError>
where
    M: prost::Message + serde::de::DeserializeOwned,
{
    let json = if json.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { json };
    let message: M = serde_json::from_slice(json).map_err(|e| err(without_values(&e)))?;
    Ok(message.encode_to_vec())
}

/// serde_json's message without a quoted piece of the input.
fn without_values(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.contains('"') || text.contains('`') {
        format!("invalid value at line {} column {}", e.line(), e.column())
    } else {
        text
    }
}

impl<Req, Res> Transcode for Codec<Req, Res>
where
    Req: prost::Message + Default + serde::Serialize + serde::de::DeserializeOwned,
    Res: prost::Message + Default + serde::Serialize + serde::de::DeserializeOwned,
{
    fn request_to_json(&self, body: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        binary_to_json::<Req>(body, TranscodeError::Request)
    }

    fn request_to_binary(&self, json: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        json_to_binary::<Req>(json, TranscodeError::Request)
    }

    fn response_to_binary(&self, json: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        json_to_binary::<Res>(json, TranscodeError::Response)
    }

    fn response_to_json(&self, body: &[u8]) -> Result<Vec<u8>, TranscodeError> {
        binary_to_json::<Res>(body, TranscodeError::Response)
    }
}

include!(concat!(env!("OUT_DIR"), "/methods.rs"));

/// The method `service`/`name`, if `proto/` declares it.
#[must_use]
pub fn method(service: &str, name: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.service == service && m.name == name)
}

/// The file descriptor set of every file in `proto/` (with the
/// `google.protobuf` files they import), for reflection and tests.
pub const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

    use super::*;

    #[test]
    fn every_method_is_listed_once_and_found() {
        let mut seen = std::collections::BTreeSet::new();
        for m in METHODS {
            assert!(seen.insert((m.service, m.name)), "{m:?} twice");
            assert!(std::ptr::eq(method(m.service, m.name).unwrap(), m));
        }
        assert!(method("zitadel.user.v2.UserService", "GetUserByID").is_some());
        assert!(method("zitadel.management.v1.ManagementService", "AddMachineUser").is_some());
        assert!(method("zitadel.user.v2.UserService", "Nope").is_none());
    }

    /// A request goes binary → JSON → binary unchanged, with proto3 JSON names.
    #[test]
    fn a_request_round_trips_through_json() {
        let codec = method("zitadel.user.v2.UserService", "ListUsers").unwrap().codec;
        let json = br#"{"query":{"offset":"5","limit":10,"asc":true},"queries":[{"userNameQuery":{"userName":"ci","method":"TEXT_QUERY_METHOD_STARTS_WITH"}}]}"#;
        let binary = codec.request_to_binary(json).unwrap();
        let back = codec.request_to_json(&binary).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&back).unwrap();
        assert_eq!(v, serde_json::from_slice::<serde_json::Value>(json).unwrap());
    }

    #[test]
    fn bad_input_is_named_without_its_bytes() {
        let codec = method("zitadel.user.v2.UserService", "GetUserByID").unwrap().codec;
        let err = codec.request_to_json(&[0x0a, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(err, TranscodeError::Request(_)));
        let err = codec.request_to_binary(br#"{"userId": 5}"#).unwrap_err();
        assert!(matches!(err, TranscodeError::Request(_)));
        let secret = "tsr_pat_leakedvalue";
        let err = codec.request_to_binary(format!(r#"{{"userId": {{"x": "{secret}"}}}}"#).as_bytes()).unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
    }
}
