//! OAuth request bodies: `application/x-www-form-urlencoded` (RFC 6749 §3.2),
//! each parameter at most once (RFC 6749 §3.2: "Request and response
//! parameters MUST NOT be included more than once"), and client authentication
//! by HTTP Basic (RFC 6749 §2.3.1, with the form-urlencoding of client id and
//! secret undone) or in the body — never both (RFC 6749 §2.3).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

use crate::error::OAuthError;

/// Largest OAuth request body accepted (an assertion is at most 8 KiB).
pub const MAX_FORM: usize = 64 * 1024;

/// The parameters of an OAuth request.
pub struct Form {
    params: HashMap<String, String>,
}

impl Form {
    /// Reads and parses the body.
    ///
    /// # Errors
    /// `invalid_request` for a wrong content type, an oversized body or a
    /// repeated parameter.
    pub async fn read(req: &HttpRequest, mut payload: web::Payload) -> Result<Self, OAuthError> {
        use futures_util::StreamExt as _;
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| OAuthError::invalid_request("cannot read the request body"))?;
            if body.len() + chunk.len() > MAX_FORM {
                return Err(OAuthError::invalid_request("the request body is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        Self::parse(&body)
    }

    /// Parses a form body.
    ///
    /// # Errors
    /// `invalid_request` for a repeated parameter.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if params.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!("parameter {} is repeated", shown(&k))));
            }
        }
        Ok(Self { params })
    }

    /// A parameter; empty values count as absent (RFC 6749 §3.1).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required parameter.
    ///
    /// # Errors
    /// `invalid_request` naming the parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("parameter {name} is missing")))
    }
}

/// Parameter names are echoed in errors; keep them short and printable.
fn shown(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(40).collect()
}

/// How a client authenticated with a secret.
pub struct ClientSecret {
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub secret: SecretString,
}

/// The client credentials of a request: Basic header or body, never both.
///
/// # Errors
/// `invalid_request` when both are used or the request has several
/// `Authorization` headers; `invalid_client` for a malformed
/// Basic header.
pub fn client_secret(req: &HttpRequest, form: &Form) -> Result<Option<ClientSecret>, OAuthError> {
    let header = crate::auth::authorization(req)
        .map_err(|crate::auth::TwoAuthorizations| OAuthError::invalid_request(crate::auth::ONE_CREDENTIAL))?
        .and_then(|v| v.to_str().ok());
    let basic = header.and_then(|h| h.split_once(' ')).filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
    let in_body = form.get("client_secret").is_some();
    match basic {
        Some(_) if in_body => Err(OAuthError::invalid_request("use only one client authentication method")),
        Some((_, encoded)) => {
            let bad = || OAuthError::invalid_client("malformed Basic credentials");
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            // RFC 6749 §2.3.1: both halves are form-urlencoded before encoding.
            let unescape = |s: &str| -> String {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .map(|(_, v)| v.into_owned())
                    .next()
                    .unwrap_or_default()
            };
            Ok(Some(ClientSecret { client_id: unescape(id), secret: SecretString::from(unescape(secret)) }))
        }
        None if in_body => Ok(Some(ClientSecret {
            client_id: form.get("client_id").unwrap_or_default().to_owned(),
            secret: SecretString::from(form.get("client_secret").unwrap_or_default().to_owned()),
        })),
        None => Ok(None),
    }
}

/// The client id a request names (Basic header or form), if any: what the
/// failure rate limit counts it under.
#[must_use]
pub fn client_id_hint(req: &HttpRequest, form: &Form) -> Option<String> {
    client_secret(req, form).ok().flatten().map(|c| c.client_id).or_else(|| form.get("client_id").map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6749 §3.2: parameters must not be repeated.
    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Form::parse(b"token=a&token=b").is_err());
        let f = Form::parse(b"grant_type=client_credentials&scope=openid+profile&empty=").unwrap();
        assert_eq!(f.get("scope"), Some("openid profile"));
        assert_eq!(f.get("empty"), None);
    }
}
