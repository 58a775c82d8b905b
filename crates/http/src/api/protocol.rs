//! The four wire protocols of a unary API call, told apart by `Content-Type`
//! (docs/architecture.md, "One API, four transports"): Connect with JSON or
//! binary protobuf (<https://connectrpc.com/docs/protocol>), gRPC
//! (<https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md>) and
//! gRPC-web (<https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md>),
//! binary or base64 (`-text`).
//!
//! Every protocol reaches the same handler, which decodes the message in its
//! codec (JSON or binary protobuf) and encodes the answer the same way; only
//! the envelope differs:
//! - Connect: the bare message; errors are a JSON body with an HTTP status.
//! - gRPC and gRPC-web: one length-prefixed message (flag byte, 4-byte length).
//!   Status goes in `grpc-status`/`grpc-message`: for gRPC in HTTP/2 trailers
//!   (the HTTP/2 bridge in `crate::h2` moves them there from the response
//!   headers), for gRPC-web in a trailer frame (flag `0x80`) after the message.
//!   An error is a "Trailers-Only" answer: HTTP 200, the status in the headers,
//!   no body.
//!
//! Compressed messages (flag 1) are refused with `unimplemented` and
//! `grpc-accept-encoding: identity`, as the gRPC spec asks of a server that does
//! not support the sender's encoding; no ZITADEL client compresses requests.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{ApiError, ConnectCode};

/// A unary call's protocol and codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Connect, `application/json`.
    ConnectJson,
    /// Connect, `application/proto`.
    ConnectProto,
    /// gRPC, `application/grpc` or `application/grpc+proto`.
    Grpc,
    /// gRPC-web, `application/grpc-web[+proto]`, or base64 with `-text`.
    GrpcWeb {
        /// `application/grpc-web-text`: the body is base64.
        text: bool,
    },
}

/// The accepted content types, for the error that names them.
pub const ACCEPTED: &str = "Content-Type must be application/json or application/proto (Connect), \
                            application/grpc or application/grpc-web";

/// Bytes in a length prefix: the flag byte and a 4-byte big-endian length.
const PREFIX: usize = 5;

impl Protocol {
    /// The protocol a `Content-Type` names; `None` for any other type.
    #[must_use]
    pub fn of(content_type: Option<&str>) -> Option<Self> {
        let essence = content_type?.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        Some(match essence.as_str() {
            "application/json" => Self::ConnectJson,
            "application/proto" => Self::ConnectProto,
            "application/grpc" | "application/grpc+proto" => Self::Grpc,
            "application/grpc-web" | "application/grpc-web+proto" => Self::GrpcWeb { text: false },
            "application/grpc-web-text" | "application/grpc-web-text+proto" => Self::GrpcWeb { text: true },
            _ => return None,
        })
    }

    /// Whether the message is binary protobuf (everything but Connect JSON).
    #[must_use]
    pub const fn is_binary(self) -> bool {
        !matches!(self, Self::ConnectJson)
    }

    /// The request message out of its envelope.
    ///
    /// # Errors
    /// `invalid_argument` for a malformed envelope; `unimplemented` for a
    /// compressed message.
    pub fn open(self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        match self {
            Self::ConnectJson | Self::ConnectProto => Ok(body.to_vec()),
            Self::Grpc => unframe(body),
            Self::GrpcWeb { text: false } => unframe(body),
            Self::GrpcWeb { text: true } => {
                let body: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                let raw = STANDARD
                    .decode(&body)
                    .map_err(|_| ApiError::new(ConnectCode::InvalidArgument, "the grpc-web-text body is not base64"))?;
                unframe(&raw)
            }
        }
    }

    /// A successful answer carrying `message` (already in this protocol's codec).
    #[must_use]
    pub fn ok(self, content_type: Option<&str>, message: Vec<u8>) -> HttpResponse {
        let mut res = HttpResponse::Ok();
        res.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]));
        match self {
            Self::ConnectJson => res.content_type("application/json").body(message),
            Self::ConnectProto => res.content_type("application/proto").body(message),
            Self::Grpc => res
                .content_type(echo(content_type, "application/grpc"))
                .insert_header(("grpc-status", "0"))
                .insert_header(("grpc-accept-encoding", "identity"))
                .body(frame(0, &message)),
            Self::GrpcWeb { text } => {
                let mut body = frame(0, &message);
                body.extend_from_slice(&frame(0x80, b"grpc-status:0\r\n"));
                let body = if text { STANDARD.encode(body).into_bytes() } else { body };
                res.content_type(echo(content_type, "application/grpc-web+proto")).body(body)
            }
        }
    }

    /// The answer to a failed call.
    #[must_use]
    pub fn error(self, content_type: Option<&str>, e: &ApiError) -> HttpResponse {
        match self {
            Self::ConnectJson | Self::ConnectProto => actix_web::ResponseError::error_response(e),
            Self::Grpc | Self::GrpcWeb { .. } => {
                let fallback = if self == Self::Grpc { "application/grpc" } else { "application/grpc-web+proto" };
                let mut res = HttpResponse::Ok();
                res.content_type(echo(content_type, fallback))
                    .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
                    .insert_header(("grpc-status", e.code.grpc().to_string()))
                    .insert_header(("grpc-message", percent_encode(&e.message)))
                    .insert_header(("grpc-accept-encoding", "identity"));
                if let Some(secs) = e.retry_after {
                    res.insert_header((header::RETRY_AFTER, secs));
                }
                res.finish()
            }
        }
    }
}

/// The request's own content type when it is a valid header value, else
/// `fallback`: gRPC clients expect the type they sent back.
fn echo(content_type: Option<&str>, fallback: &'static str) -> HeaderValue {
    content_type.and_then(|t| HeaderValue::from_str(t).ok()).unwrap_or_else(|| HeaderValue::from_static(fallback))
}

/// One length-prefixed message.
fn frame(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX + message.len());
    out.push(flag);
    // Messages are bounded by the 1 MiB body limit; a larger one cannot be built.
    out.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The single message of a unary request body.
fn unframe(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let bad = |why: &str| ApiError::new(ConnectCode::InvalidArgument, format!("malformed gRPC message: {why}"));
    let Some((head, rest)) = body.split_first_chunk::<PREFIX>() else {
        return Err(bad("shorter than its 5-byte prefix"));
    };
    match head[0] {
        0 => {}
        1 => return Err(ApiError::new(ConnectCode::Unimplemented, "compressed messages are not supported")),
        _ => return Err(bad("unknown flags")),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if rest.len() != len {
        return Err(bad(if rest.len() < len { "truncated" } else { "more than one message in a unary call" }));
    }
    Ok(rest.to_vec())
}

/// `grpc-message` encoding: printable ASCII except `%` as is, every other byte
/// `%XX` (PROTOCOL-HTTP2.md, "Responses").
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    #[test]
    fn content_types_name_their_protocol() {
        assert_eq!(Protocol::of(Some("application/json; charset=utf-8")), Some(Protocol::ConnectJson));
        assert_eq!(Protocol::of(Some("application/proto")), Some(Protocol::ConnectProto));
        assert_eq!(Protocol::of(Some("application/grpc")), Some(Protocol::Grpc));
        assert_eq!(Protocol::of(Some("Application/GRPC+proto")), Some(Protocol::Grpc));
        assert_eq!(Protocol::of(Some("application/grpc-web")), Some(Protocol::GrpcWeb { text: false }));
        assert_eq!(Protocol::of(Some("application/grpc-web-text+proto")), Some(Protocol::GrpcWeb { text: true }));
        assert_eq!(Protocol::of(Some("application/grpc+json")), None);
        assert_eq!(Protocol::of(Some("text/plain")), None);
        assert_eq!(Protocol::of(None), None);
    }

    #[test]
    fn a_unary_body_holds_exactly_one_uncompressed_message() {
        assert_eq!(unframe(&frame(0, b"abc")).unwrap(), b"abc");
        assert_eq!(unframe(&frame(0, b"")).unwrap(), b"");
        for bad in [&b""[..], &[0, 0, 0], &[0, 0, 0, 0, 4, 1], &[2, 0, 0, 0, 0]] {
            assert_eq!(unframe(bad).unwrap_err().code, ConnectCode::InvalidArgument);
        }
        let mut two = frame(0, b"a");
        two.extend(frame(0, b"b"));
        assert_eq!(unframe(&two).unwrap_err().code, ConnectCode::InvalidArgument);
        assert_eq!(unframe(&frame(1, b"x")).unwrap_err().code, ConnectCode::Unimplemented);
        // A length far past the body is refused without allocating it.
        assert_eq!(unframe(&[0, 0xff, 0xff, 0xff, 0xff]).unwrap_err().code, ConnectCode::InvalidArgument);
        let text = Protocol::GrpcWeb { text: true };
        assert_eq!(text.open(STANDARD.encode(frame(0, b"hi")).as_bytes()).unwrap(), b"hi");
        assert_eq!(text.open(b"!!").unwrap_err().code, ConnectCode::InvalidArgument);
    }

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(percent_encode("user not found"), "user not found");
        assert_eq!(percent_encode("100% ünique\n"), "100%25 %C3%BCnique%0A");
    }
}
