//! Machine and application key files in ZITADEL's format, and the public keys
//! Tessera stores for them.
//!
//! # Key files
//!
//! Byte for byte what ZITADEL writes (its `MachineKeyMarshalJSON` and
//! `ApplicationKey.MarshalJSON`, Go's `encoding/json`): compact JSON, members in
//! this order, the private key as PKCS#1 PEM (RSA 2048, 64-character lines, LF,
//! trailing newline):
//!
//! ```text
//! {"type":"serviceaccount","keyId":"…","key":"-----BEGIN RSA PRIVATE KEY-----\n…","expirationDate":"9999-12-31T23:59:59Z","userId":"…"}
//! {"type":"application","keyId":"…","key":"-----BEGIN RSA PRIVATE KEY-----\n…","appId":"…","clientId":"…"}
//! ```
//!
//! `expirationDate` is Go's `time.Time` JSON form (RFC 3339 with the fraction's
//! trailing zeros cut, `Z` for UTC). Go also escapes `<`, `>` and `&` in strings;
//! none of them can occur in these values, so serde_json's output is identical.
//! Readers (ZITADEL's SDKs) take `userId`/`clientId`, `keyId` and `key`.
//!
//! # Public keys
//!
//! Only the public half of a key is stored, as canonical SubjectPublicKeyInfo
//! PEM. A caller may register its own public key instead of having one
//! generated: RSA (2048 to 4096 bits), EC P-256 or Ed25519, in SPKI PEM (or,
//! for RSA, PKCS#1 `RSA PUBLIC KEY` PEM). Anything else — garbage, other
//! curves, small RSA moduli, invalid points, weak Ed25519 keys and above all
//! private keys — is refused, and the error never echoes the input.

use std::fmt;

use chrono::{Timelike as _, Utc};
use jsonwebtoken::DecodingKey;
use rand::{CryptoRng, RngCore};
use rsa::pkcs1::{DecodeRsaPublicKey as _, EncodeRsaPrivateKey as _, LineEnding};
use rsa::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};
use spki::ObjectIdentifier;
use tessera_domain::Timestamp;
use tessera_domain::machine_key::PublicKeyType;

/// Size of the RSA keys Tessera generates (ZITADEL's size).
pub const GENERATED_RSA_BITS: usize = 2048;
/// Smallest RSA modulus accepted from a caller (RFC 7518 §3.3 requires 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted from a caller (the `rsa` crate's limit).
pub const MAX_RSA_BITS: usize = 4096;
/// Longest public key PEM looked at; a 4096-bit RSA key is about 800 bytes.
pub const MAX_PUBLIC_KEY_PEM_LEN: usize = 8 * 1024;

/// `type` of a machine user's key file.
pub const SERVICE_ACCOUNT_TYPE: &str = "serviceaccount";
/// `type` of an API application's key file.
pub const APPLICATION_TYPE: &str = "application";

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Why a caller-supplied public key was refused. No variant carries the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// Longer than [`MAX_PUBLIC_KEY_PEM_LEN`] bytes.
    #[error("the public key is too long")]
    TooLong,
    /// A private key was supplied. Register only the public key; the private
    /// key should now be treated as exposed.
    #[error("a private key was supplied; register only the public key")]
    PrivateKey,
    /// Not a PEM document with a `PUBLIC KEY` or `RSA PUBLIC KEY` label.
    #[error("the public key must be a PEM-encoded SubjectPublicKeyInfo (-----BEGIN PUBLIC KEY-----)")]
    NotPem,
    /// A key type or curve other than RSA, EC P-256 and Ed25519.
    #[error("unsupported key type; use RSA (2048 to 4096 bits), EC P-256 or Ed25519")]
    Unsupported,
    /// The structure or the key itself is invalid (e.g. a point not on the curve).
    #[error("the public key is invalid")]
    Invalid,
    /// An RSA modulus below [`MIN_RSA_BITS`].
    #[error("RSA keys must have at least 2048 bits")]
    RsaTooSmall,
    /// An RSA modulus above [`MAX_RSA_BITS`].
    #[error("RSA keys larger than 4096 bits are not supported")]
    RsaTooLarge,
    /// An Ed25519 key of small order, for which signatures prove nothing.
    #[error("the Ed25519 key is weak")]
    WeakKey,
}

/// Why a key pair or key file could not be produced or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// RSA key generation failed.
    #[error("cannot generate an RSA key pair")]
    Generation,
    /// Encoding the key or the JSON failed.
    #[error("cannot encode the key file")]
    Encoding,
    /// Not a key file: invalid JSON, a missing member or an unknown `type`.
    #[error("not a valid key file")]
    Malformed,
}

/// A validated public key in canonical SPKI PEM (LF line endings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_type: PublicKeyType,
    spki_pem: String,
}

impl PublicKey {
    /// RSA, EC P-256 or Ed25519.
    #[must_use]
    pub const fn key_type(&self) -> PublicKeyType {
        self.key_type
    }

    /// The canonical SPKI PEM, what `MachineKey::public_key_pem` stores.
    #[must_use]
    pub fn spki_pem(&self) -> &str {
        &self.spki_pem
    }

    /// Type and PEM.
    #[must_use]
    pub fn into_parts(self) -> (PublicKeyType, String) {
        (self.key_type, self.spki_pem)
    }
}

/// Parses and validates a caller-supplied public key (module docs).
///
/// # Errors
/// A [`PublicKeyError`] naming the rule the input broke.
pub fn parse_public_key_pem(text: &str) -> Result<PublicKey, PublicKeyError> {
    if text.len() > MAX_PUBLIC_KEY_PEM_LEN {
        return Err(PublicKeyError::TooLong);
    }
    // Before any parsing: `PRIVATE KEY` is in every private-key PEM label (PKCS#1,
    // PKCS#8, encrypted PKCS#8, SEC 1 `EC PRIVATE KEY`, OpenSSH).
    if text.contains("PRIVATE KEY") {
        return Err(PublicKeyError::PrivateKey);
    }
    let normalized = text.trim().replace("\r\n", "\n");
    let (label, der) = spki::der::pem::decode_vec(normalized.as_bytes()).map_err(|_| PublicKeyError::NotPem)?;
    match label {
        "PUBLIC KEY" => parse_spki(&der),
        "RSA PUBLIC KEY" => {
            check_rsa_size(&der)?;
            let key = rsa::RsaPublicKey::from_pkcs1_der(&der).map_err(|_| PublicKeyError::Invalid)?;
            rsa_public_key(&key)
        }
        _ => Err(PublicKeyError::NotPem),
    }
}

fn parse_spki(der: &[u8]) -> Result<PublicKey, PublicKeyError> {
    let info = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|_| PublicKeyError::Invalid)?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        check_rsa_size(info.subject_public_key.as_bytes().ok_or(PublicKeyError::Invalid)?)?;
        let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|_| PublicKeyError::Invalid)?;
        rsa_public_key(&key)
    } else if oid == OID_EC {
        if info.algorithm.parameters_oid().ok() != Some(OID_P256) {
            return Err(PublicKeyError::Unsupported);
        }
        let key = p256::PublicKey::from_public_key_der(der).map_err(|_| PublicKeyError::Invalid)?;
        let pem = key.to_public_key_pem(LineEnding::LF).map_err(|_| PublicKeyError::Invalid)?;
        Ok(PublicKey { key_type: PublicKeyType::EcP256, spki_pem: pem })
    } else if oid == OID_ED25519 {
        let key = ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|_| PublicKeyError::Invalid)?;
        if key.is_weak() {
            return Err(PublicKeyError::WeakKey);
        }
        let pem = key.to_public_key_pem(LineEnding::LF).map_err(|_| PublicKeyError::Invalid)?;
        Ok(PublicKey { key_type: PublicKeyType::Ed25519, spki_pem: pem })
    } else {
        Err(PublicKeyError::Unsupported)
    }
}

/// Checks the modulus size of a PKCS#1 `RSAPublicKey` before the `rsa` crate
/// sees it (it refuses moduli above 4096 bits with a generic error).
fn check_rsa_size(pkcs1_der: &[u8]) -> Result<(), PublicKeyError> {
    let key = rsa::pkcs1::RsaPublicKey::try_from(pkcs1_der).map_err(|_| PublicKeyError::Invalid)?;
    let modulus = key.modulus.as_bytes();
    let bits = modulus.first().map_or(0, |b| modulus.len() * 8 - b.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return Err(PublicKeyError::RsaTooSmall);
    }
    if bits > MAX_RSA_BITS {
        return Err(PublicKeyError::RsaTooLarge);
    }
    Ok(())
}

fn rsa_public_key(key: &rsa::RsaPublicKey) -> Result<PublicKey, PublicKeyError> {
    let pem = key.to_public_key_pem(LineEnding::LF).map_err(|_| PublicKeyError::Invalid)?;
    Ok(PublicKey { key_type: PublicKeyType::Rsa, spki_pem: pem })
}

/// The key ring's verification key for a stored public key: the bytes of the
/// SPKI `subjectPublicKey` (PKCS#1 `RSAPublicKey` DER, an uncompressed EC
/// point, or the raw Ed25519 key), as ring expects them.
pub(crate) fn decoding_key(key_type: PublicKeyType, spki_pem: &str) -> Option<DecodingKey> {
    let (label, der) = spki::der::pem::decode_vec(spki_pem.as_bytes()).ok()?;
    if label != "PUBLIC KEY" {
        return None;
    }
    let info = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()).ok()?;
    let bits = info.subject_public_key.as_bytes()?;
    let expected = match key_type {
        PublicKeyType::Rsa => OID_RSA,
        PublicKeyType::EcP256 => OID_EC,
        PublicKeyType::Ed25519 => OID_ED25519,
    };
    if info.algorithm.oid != expected {
        return None;
    }
    Some(match key_type {
        PublicKeyType::Rsa => DecodingKey::from_rsa_der(bits),
        PublicKeyType::EcP256 => DecodingKey::from_ec_der(bits),
        PublicKeyType::Ed25519 => DecodingKey::from_ed_der(bits),
    })
}

/// A freshly generated RSA key pair. The private half lives only until the key
/// file is built and is wiped on drop; it never prints.
pub struct GeneratedKeyPair {
    public: PublicKey,
    private_pkcs1_pem: Zeroizing<String>,
}

impl fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKeyPair").field("public", &self.public).field("private", &"[redacted]").finish()
    }
}

impl GeneratedKeyPair {
    /// Generates an RSA-2048 key pair.
    ///
    /// # Errors
    /// [`KeyFileError::Generation`] or [`KeyFileError::Encoding`] on failure.
    pub fn generate<R>(rng: &mut R) -> Result<Self, KeyFileError>
    where
        R: RngCore + CryptoRng + ?Sized,
    {
        let private =
            rsa::RsaPrivateKey::new(&mut RngAdapter(rng), GENERATED_RSA_BITS).map_err(|_| KeyFileError::Generation)?;
        let private_pkcs1_pem = private.to_pkcs1_pem(LineEnding::LF).map_err(|_| KeyFileError::Encoding)?;
        let spki_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|_| KeyFileError::Encoding)?;
        Ok(Self { public: PublicKey { key_type: PublicKeyType::Rsa, spki_pem }, private_pkcs1_pem })
    }

    /// The public half, to store.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// A machine user's key file (`type` `serviceaccount`).
    ///
    /// # Errors
    /// [`KeyFileError::Encoding`] if serialization fails.
    pub fn machine_key_file(
        &self,
        key_id: &str,
        expires_at: Timestamp,
        user_id: &str,
    ) -> Result<KeyFile, KeyFileError> {
        #[derive(Serialize)]
        struct Machine<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            #[serde(rename = "keyId")]
            key_id: &'a str,
            key: &'a str,
            #[serde(rename = "expirationDate")]
            expiration_date: String,
            #[serde(rename = "userId")]
            user_id: &'a str,
        }
        KeyFile::encode(&Machine {
            kind: SERVICE_ACCOUNT_TYPE,
            key_id,
            key: &self.private_pkcs1_pem,
            expiration_date: go_time(expires_at),
            user_id,
        })
    }

    /// An API application's key file (`type` `application`).
    ///
    /// # Errors
    /// [`KeyFileError::Encoding`] if serialization fails.
    pub fn application_key_file(&self, key_id: &str, client_id: &str, app_id: &str) -> Result<KeyFile, KeyFileError> {
        #[derive(Serialize)]
        struct Application<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            #[serde(rename = "keyId")]
            key_id: &'a str,
            key: &'a str,
            #[serde(rename = "appId")]
            app_id: &'a str,
            #[serde(rename = "clientId")]
            client_id: &'a str,
        }
        KeyFile::encode(&Application {
            kind: APPLICATION_TYPE,
            key_id,
            key: &self.private_pkcs1_pem,
            app_id,
            client_id,
        })
    }
}

/// Adapts a `?Sized` RNG reference for APIs that take `impl CryptoRngCore`.
struct RngAdapter<'a, R: ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for RngAdapter<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl<R: CryptoRng + ?Sized> CryptoRng for RngAdapter<'_, R> {}

/// Go's `time.Time` JSON encoding (RFC 3339, fraction without trailing zeros,
/// `Z` for UTC), as in ZITADEL's key files.
fn go_time(t: Timestamp) -> String {
    let t = t.with_timezone(&Utc);
    let mut out = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// The bytes of a key file: shown to its owner once (base64 in `keyContent`),
/// never stored, never printed, wiped on drop.
pub struct KeyFile(Zeroizing<Vec<u8>>);

impl KeyFile {
    fn encode(value: &impl Serialize) -> Result<Self, KeyFileError> {
        serde_json::to_vec(value).map(|v| Self(Zeroizing::new(v))).map_err(|_| KeyFileError::Encoding)
    }

    /// The JSON bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFile([redacted])")
    }
}

/// A key file read back (by tests, tools and clients written in Rust).
pub struct ParsedKeyFile {
    /// `serviceaccount` or `application`.
    pub kind: String,
    /// The key id (`kid` of assertions).
    pub key_id: String,
    /// The PKCS#1 PEM private key.
    pub private_key_pem: Zeroizing<String>,
    /// A machine user's id.
    pub user_id: Option<String>,
    /// An application's client id.
    pub client_id: Option<String>,
    /// An application's id.
    pub app_id: Option<String>,
}

impl fmt::Debug for ParsedKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKeyFile")
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .field("private_key_pem", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("client_id", &self.client_id)
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl ParsedKeyFile {
    /// Parses a ZITADEL-format key file.
    ///
    /// # Errors
    /// [`KeyFileError::Malformed`] for invalid JSON, an unknown `type` or a
    /// missing member (`userId` for machine keys, `clientId` for applications).
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyFileError> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            kind: String,
            #[serde(rename = "keyId")]
            key_id: String,
            key: String,
            #[serde(rename = "userId")]
            user_id: Option<String>,
            #[serde(rename = "clientId")]
            client_id: Option<String>,
            #[serde(rename = "appId")]
            app_id: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|_| KeyFileError::Malformed)?;
        let complete = match raw.kind.as_str() {
            SERVICE_ACCOUNT_TYPE => raw.user_id.is_some(),
            APPLICATION_TYPE => raw.client_id.is_some(),
            _ => false,
        };
        if !complete || raw.key_id.is_empty() || raw.key.is_empty() {
            return Err(KeyFileError::Malformed);
        }
        Ok(Self {
            kind: raw.kind,
            key_id: raw.key_id,
            private_key_pem: Zeroizing::new(raw.key),
            user_id: raw.user_id,
            client_id: raw.client_id,
            app_id: raw.app_id,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::OnceLock;

    use chrono::TimeZone as _;
    use rand::rngs::OsRng;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
    use rsa::pkcs1::EncodeRsaPublicKey as _;
    use rsa::traits::PublicKeyParts as _;
    use tessera_domain::time::far_future;

    use super::*;

    /// One generated RSA key pair for every test in the crate (keygen is slow).
    pub(crate) fn shared_pair() -> &'static GeneratedKeyPair {
        static PAIR: OnceLock<GeneratedKeyPair> = OnceLock::new();
        PAIR.get_or_init(|| GeneratedKeyPair::generate(&mut OsRng).unwrap())
    }

    /// An EC P-256 key pair: PKCS#8 DER private key and SPKI PEM public key.
    pub(crate) fn ec_pair() -> (Vec<u8>, String) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let public = p256::PublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
        (pkcs8.as_ref().to_vec(), public.to_public_key_pem(LineEnding::LF).unwrap())
    }

    /// An Ed25519 key pair: PKCS#8 DER private key and SPKI PEM public key.
    pub(crate) fn ed_pair() -> (Vec<u8>, String) {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let bytes: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
        let public = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
        (pkcs8.as_ref().to_vec(), public.to_public_key_pem(LineEnding::LF).unwrap())
    }

    #[test]
    fn machine_key_files_have_zitadels_members_in_zitadels_order() {
        let pair = shared_pair();
        let file = pair.machine_key_file("key-1", far_future(), "user-1").unwrap();
        let text = std::str::from_utf8(file.as_bytes()).unwrap();
        assert!(
            text.starts_with(r#"{"type":"serviceaccount","keyId":"key-1","key":"-----BEGIN RSA PRIVATE KEY-----\n"#)
        );
        assert!(text.ends_with(
            r#"-----END RSA PRIVATE KEY-----\n","expirationDate":"9999-12-31T23:59:59Z","userId":"user-1"}"#
        ));
        assert!(!text.contains("\": ") && !text.contains("\r"), "compact JSON, LF line endings");

        let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
        assert_eq!(parsed.kind, SERVICE_ACCOUNT_TYPE);
        assert_eq!(parsed.user_id.as_deref(), Some("user-1"));
        // The private key in the file belongs to the public key to be stored.
        let private =
            <rsa::RsaPrivateKey as rsa::pkcs1::DecodeRsaPrivateKey>::from_pkcs1_pem(&parsed.private_key_pem).unwrap();
        assert_eq!(private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(), pair.public_key().spki_pem());
        assert_eq!(private.n().bits(), GENERATED_RSA_BITS);
        // PKCS#1 PEM as Go's pem.Encode writes it: 64-character lines.
        assert!(parsed.private_key_pem.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn application_key_files_have_zitadels_members_in_zitadels_order() {
        let file = shared_pair().application_key_file("key-2", "client@project", "app-9").unwrap();
        let text = std::str::from_utf8(file.as_bytes()).unwrap();
        assert!(text.starts_with(r#"{"type":"application","keyId":"key-2","key":"-----BEGIN RSA PRIVATE KEY-----\n"#));
        assert!(text.ends_with(r#"-----END RSA PRIVATE KEY-----\n","appId":"app-9","clientId":"client@project"}"#));
        let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
        assert_eq!((parsed.client_id.as_deref(), parsed.app_id.as_deref()), (Some("client@project"), Some("app-9")));
    }

    #[test]
    fn key_files_and_pairs_never_print_their_secrets() {
        let pair = shared_pair();
        let file = pair.machine_key_file("k", far_future(), "u").unwrap();
        assert_eq!(format!("{file:?}"), "KeyFile([redacted])");
        assert!(!format!("{pair:?}").contains("PRIVATE"));
        let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
        assert!(!format!("{parsed:?}").contains("PRIVATE"));
    }

    #[test]
    fn expiration_dates_use_gos_time_format() {
        let t = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(go_time(t), "2030-01-02T03:04:05Z");
        assert_eq!(go_time(t + chrono::Duration::milliseconds(500)), "2030-01-02T03:04:05.5Z");
        assert_eq!(go_time(t + chrono::Duration::microseconds(123_450)), "2030-01-02T03:04:05.12345Z");
    }

    #[test]
    fn key_files_missing_members_or_of_unknown_type_are_malformed() {
        for bad in [
            &br#"{"type":"serviceaccount","keyId":"k","key":"x"}"#[..],
            br#"{"type":"application","keyId":"k","key":"x","appId":"a"}"#,
            br#"{"type":"other","keyId":"k","key":"x","userId":"u"}"#,
            br#"{"type":"serviceaccount","keyId":"","key":"x","userId":"u"}"#,
            b"not json",
        ] {
            assert_eq!(ParsedKeyFile::parse(bad).unwrap_err(), KeyFileError::Malformed);
        }
    }

    #[test]
    fn accepts_rsa_ec_and_ed25519_public_keys_in_canonical_form() {
        let rsa = parse_public_key_pem(shared_pair().public_key().spki_pem()).unwrap();
        assert_eq!(rsa.key_type(), PublicKeyType::Rsa);
        let (_, ec) = ec_pair();
        let parsed = parse_public_key_pem(&ec).unwrap();
        assert_eq!((parsed.key_type(), parsed.spki_pem()), (PublicKeyType::EcP256, ec.as_str()));
        let (_, ed) = ed_pair();
        assert_eq!(parse_public_key_pem(&ed).unwrap().key_type(), PublicKeyType::Ed25519);
    }

    #[test]
    fn normalizes_crlf_whitespace_and_pkcs1_rsa_public_keys() {
        let spki = shared_pair().public_key().spki_pem();
        let crlf = format!("\n  {}  \n", spki.replace('\n', "\r\n"));
        assert_eq!(parse_public_key_pem(&crlf).unwrap().spki_pem(), spki);
        let rsa = rsa::RsaPublicKey::from_public_key_pem(spki).unwrap();
        let pkcs1 = rsa.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert_eq!(parse_public_key_pem(&pkcs1).unwrap().spki_pem(), spki);
    }

    #[test]
    fn refuses_private_keys_without_echoing_them() {
        let pair = shared_pair();
        let file = pair.machine_key_file("k", far_future(), "u").unwrap();
        let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
        let err = parse_public_key_pem(&parsed.private_key_pem).unwrap_err();
        assert_eq!(err, PublicKeyError::PrivateKey);
        assert!(!err.to_string().contains("MII"));
        let (ec_private, _) = ec_pair();
        let pkcs8 = spki::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &ec_private).unwrap();
        assert_eq!(parse_public_key_pem(&pkcs8).unwrap_err(), PublicKeyError::PrivateKey);
        assert_eq!(
            parse_public_key_pem("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----")
                .unwrap_err(),
            PublicKeyError::PrivateKey
        );
    }

    /// An RSA public key with a `bits`-bit modulus (not a real key: only the size
    /// check sees it).
    fn rsa_public_pem(bits: usize) -> String {
        let n = rsa::BigUint::from(1u8) << (bits - 1) | rsa::BigUint::from(1u8);
        let modulus = n.to_bytes_be();
        let key = rsa::pkcs1::RsaPublicKey {
            modulus: rsa::pkcs1::UintRef::new(&modulus).unwrap(),
            public_exponent: rsa::pkcs1::UintRef::new(&[1, 0, 1]).unwrap(),
        };
        let der = spki::der::Encode::to_der(&key).unwrap();
        spki::der::pem::encode_string("RSA PUBLIC KEY", LineEnding::LF, &der).unwrap()
    }

    #[test]
    fn refuses_small_and_huge_rsa_keys() {
        assert_eq!(parse_public_key_pem(&rsa_public_pem(2047)).unwrap_err(), PublicKeyError::RsaTooSmall);
        assert_eq!(parse_public_key_pem(&rsa_public_pem(1024)).unwrap_err(), PublicKeyError::RsaTooSmall);
        assert_eq!(parse_public_key_pem(&rsa_public_pem(4097)).unwrap_err(), PublicKeyError::RsaTooLarge);
        // The same size check applies to SPKI: a real 1024-bit key.
        let small = rsa::RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let pem = small.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(parse_public_key_pem(&pem).unwrap_err(), PublicKeyError::RsaTooSmall);
    }

    #[test]
    fn refuses_garbage_other_labels_and_oversized_input() {
        assert_eq!(parse_public_key_pem("hello").unwrap_err(), PublicKeyError::NotPem);
        assert_eq!(parse_public_key_pem("").unwrap_err(), PublicKeyError::NotPem);
        let cert = spki::der::pem::encode_string("CERTIFICATE", LineEnding::LF, b"abc").unwrap();
        assert_eq!(parse_public_key_pem(&cert).unwrap_err(), PublicKeyError::NotPem);
        let junk = spki::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, b"not der at all").unwrap();
        assert_eq!(parse_public_key_pem(&junk).unwrap_err(), PublicKeyError::Invalid);
        assert_eq!(parse_public_key_pem(&"A".repeat(MAX_PUBLIC_KEY_PEM_LEN + 1)).unwrap_err(), PublicKeyError::TooLong);
    }

    #[test]
    fn refuses_other_curves_invalid_points_and_weak_ed25519_keys() {
        // SPKI for EC on secp384r1 (OID 1.3.132.0.34) with a dummy point.
        let (_, ec) = ec_pair();
        let (_, der) = spki::der::pem::decode_vec(ec.as_bytes()).unwrap();
        let p384_oid = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        let p256_oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let at = der.windows(p256_oid.len()).position(|w| w == p256_oid).unwrap();
        let mut other = der[..at].to_vec();
        other.extend_from_slice(&p384_oid);
        other.extend_from_slice(&der[at + p256_oid.len()..]);
        // Fix the two enclosing SEQUENCE lengths (shorter by 3 bytes).
        other[1] -= 3;
        other[3] -= 3;
        let pem = spki::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &other).unwrap();
        assert_eq!(parse_public_key_pem(&pem).unwrap_err(), PublicKeyError::Unsupported);

        // A P-256 point moved off the curve.
        let mut off_curve = der.clone();
        *off_curve.last_mut().unwrap() ^= 1;
        let pem = spki::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &off_curve).unwrap();
        assert_eq!(parse_public_key_pem(&pem).unwrap_err(), PublicKeyError::Invalid);

        // The Ed25519 identity point (small order).
        let (_, ed) = ed_pair();
        let (_, ed_der) = spki::der::pem::decode_vec(ed.as_bytes()).unwrap();
        let mut weak = ed_der[..ed_der.len() - 32].to_vec();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        weak.extend_from_slice(&identity);
        let pem = spki::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &weak).unwrap();
        assert_eq!(parse_public_key_pem(&pem).unwrap_err(), PublicKeyError::WeakKey);
    }

    #[test]
    fn decoding_keys_require_the_stored_type() {
        let rsa = shared_pair().public_key().spki_pem();
        assert!(decoding_key(PublicKeyType::Rsa, rsa).is_some());
        assert!(decoding_key(PublicKeyType::EcP256, rsa).is_none());
        assert!(decoding_key(PublicKeyType::Rsa, "garbage").is_none());
    }
}
