//! Opaque credentials of DESIGN.md §4: personal access tokens, opaque access tokens
//! and generated client secrets share one format, generated and parsed here.
//!
//! # Format
//!
//! ```text
//! tsr_pat_ 02xfbNwGojrATysHz3mMsA 003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf 2M0eK4
//! └prefix┘ └─ lookup id (22) ───┘ └──────────── secret (43) ──────────────┘ └crc─┘
//! ```
//!
//! - a **type prefix** ([`CredentialKind::prefix`]) so that secret scanners and people
//!   can tell credentials apart;
//! - the **lookup id**, a UUID (16 bytes), which finds the stored row;
//! - **256 random bits** of secret (32 bytes);
//! - a **CRC32 checksum** of the ASCII bytes of prefix, id part and secret part, so that
//!   malformed or mistyped input is rejected before any I/O.
//!
//! Each binary part is written in fixed-width base62 (`0-9A-Za-z`, big-endian, leading
//! zero digits kept), so every credential of a kind has the same length and the body
//! needs no separators; a token survives double-click selection and URL encoding.
//!
//! Only the SHA-256 digest of the **whole** token string is stored
//! ([`SecretDigest`]); verification recomputes it and compares in constant time. As
//! the whole string is covered, a truncated, extended or altered token never verifies
//! even where the checksum would let it through. The secret has 256 bits of entropy,
//! so a fast hash is enough: no password KDF, client authentication must not cost
//! milliseconds (DESIGN.md §4).

mod base62;

use std::fmt;

use rand::{CryptoRng, RngCore};
use secrecy::zeroize::Zeroize as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tessera_domain::pat::SecretDigest;
use uuid::Uuid;

/// Bytes of the lookup id (a UUID).
const ID_BYTES: usize = 16;
/// Bytes of random secret: 256 bits (DESIGN.md §4).
const SECRET_BYTES: usize = 32;
/// Bytes of the CRC32 checksum.
const CHECKSUM_BYTES: usize = 4;

/// Base62 digits of each part.
const ID_CHARS: usize = base62::encoded_len(ID_BYTES);
const SECRET_CHARS: usize = base62::encoded_len(SECRET_BYTES);
const CHECKSUM_CHARS: usize = base62::encoded_len(CHECKSUM_BYTES);
/// Everything after the prefix.
const BODY_CHARS: usize = ID_CHARS + SECRET_CHARS + CHECKSUM_CHARS;

/// Longest input [`ParsedCredential::parse`] looks at; anything longer is rejected
/// before any other check. Larger than every credential Tessera issues, so that a
/// future kind with a longer prefix still fits.
pub const MAX_CREDENTIAL_LEN: usize = 256;

/// Shortest well-formed credential: the shortest prefix plus the body.
const MIN_CREDENTIAL_LEN: usize = {
    let mut shortest = usize::MAX;
    let mut i = 0;
    while i < CredentialKind::ALL.len() {
        let len = CredentialKind::ALL[i].prefix().len();
        if len < shortest {
            shortest = len;
        }
        i += 1;
    }
    shortest + BODY_CHARS
};

/// What an opaque credential is for; decides its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// A personal access token of a machine user (`tsr_pat_`).
    Pat,
    /// An opaque (non-JWT) access token from the token endpoint (`tsr_at_`).
    AccessToken,
    /// A client secret generated for an API application or a machine user (`tsr_cs_`).
    ClientSecret,
    /// A console login session, held in an `HttpOnly` cookie (`tsr_sess_`). Never
    /// accepted as a bearer credential.
    ConsoleSession,
}

impl CredentialKind {
    /// Every kind, for parsers that accept any of them.
    pub const ALL: [Self; 4] = [Self::Pat, Self::AccessToken, Self::ClientSecret, Self::ConsoleSession];

    /// The type prefix that starts every credential of this kind (DESIGN.md §4).
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Pat => "tsr_pat_",
            Self::AccessToken => "tsr_at_",
            Self::ClientSecret => "tsr_cs_",
            Self::ConsoleSession => "tsr_sess_",
        }
    }

    /// The exact length in bytes of every credential of this kind.
    #[must_use]
    pub const fn token_len(self) -> usize {
        self.prefix().len() + BODY_CHARS
    }

    /// The kind whose prefix starts `s`, if any. Prefixes are not prefixes of one
    /// another, so at most one matches.
    fn from_prefix_of(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| s.starts_with(kind.prefix()))
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pat => "personal access token",
            Self::AccessToken => "access token",
            Self::ClientSecret => "client secret",
            Self::ConsoleSession => "console session",
        })
    }
}

/// Why a string is not a well-formed credential. Messages never contain the input:
/// it may be a real credential with a typo, or one of another kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Too short, too long (more than [`MAX_CREDENTIAL_LEN`] bytes), or not the exact
    /// length of its kind.
    #[error("credential has an invalid length")]
    Length,
    /// Does not start with the prefix of any credential kind.
    #[error("credential has no known type prefix")]
    UnknownPrefix,
    /// A well-prefixed credential of another kind than the one expected here.
    #[error("wrong credential kind: expected {expected}, found {found}")]
    WrongKind {
        /// The kind the caller asked for.
        expected: CredentialKind,
        /// The kind its prefix names.
        found: CredentialKind,
    },
    /// A character outside `0-9A-Za-z` after the prefix, or a part whose value does
    /// not fit its width.
    #[error("credential is not validly encoded")]
    Encoding,
    /// The checksum does not match: a mistyped, truncated-and-padded or forged token.
    #[error("credential checksum does not match")]
    Checksum,
}

/// SHA-256 of a whole credential string: what is stored instead of the credential
/// (DESIGN.md §4).
#[must_use]
pub fn digest_secret(s: &str) -> SecretDigest {
    SecretDigest::from_bytes(Sha256::digest(s.as_bytes()).into())
}

/// Whether `s` is the string whose digest is `stored` (SHA-256 of the whole
/// string, compared in constant time): for strings that are not `tsr_`
/// credentials, such as a JWT met again by the verified-credential cache.
#[must_use]
pub fn matches_digest(s: &str, stored: &SecretDigest) -> bool {
    digest_secret(s).as_bytes().as_slice().ct_eq(stored.as_bytes().as_slice()).into()
}

/// Constructor of new credentials. Uninhabited: a credential exists either as an
/// [`IssuedCredential`] (just generated) or as a [`ParsedCredential`] (presented).
#[derive(Debug)]
pub enum Credential {}

impl Credential {
    /// Generates a credential of `kind` with lookup id `id` and 256 bits from `rng`
    /// (DESIGN.md §4).
    ///
    /// Returns the token, to be shown to its owner once and then dropped, and its
    /// digest, the only thing to store.
    pub fn generate<R>(kind: CredentialKind, id: Uuid, rng: &mut R) -> (IssuedCredential, SecretDigest)
    where
        R: RngCore + CryptoRng + ?Sized,
    {
        let mut secret = [0u8; SECRET_BYTES];
        rng.fill_bytes(&mut secret);

        // The widths are encoded_len(N), which holds every N-byte value, so encoding
        // cannot fail; `widths_are_minimal` in the codec's tests pins that.
        let mut id_part = [0u8; ID_CHARS];
        let mut secret_part = [0u8; SECRET_CHARS];
        let mut checksum_part = [0u8; CHECKSUM_CHARS];
        let id_fits = base62::encode_into(id.as_bytes(), &mut id_part);
        let secret_fits = base62::encode_into(&secret, &mut secret_part);
        secret.zeroize();

        // Exact capacity: the String then moves into the secret box without a
        // reallocation that would leave an unwiped copy behind.
        let mut token = String::with_capacity(kind.token_len());
        token.push_str(kind.prefix());
        token.extend(id_part.iter().chain(&secret_part).map(|&b| char::from(b)));
        secret_part.zeroize();
        let checksum = crc32fast::hash(token.as_bytes());
        let checksum_fits = base62::encode_into(&checksum.to_be_bytes(), &mut checksum_part);
        token.extend(checksum_part.iter().map(|&b| char::from(b)));
        debug_assert!(id_fits && secret_fits && checksum_fits);
        debug_assert_eq!(token.len(), kind.token_len());
        let token = SecretString::from(token);

        let digest = digest_secret(token.expose_secret());
        (IssuedCredential { kind, id, token }, digest)
    }
}

/// A credential just generated: the only time its plaintext exists. Hand it to its
/// owner with [`expose_secret`](Self::expose_secret) and drop it; store the digest.
///
/// Has no `Display` and no `PartialEq`; `Debug` shows kind and id, never the token.
pub struct IssuedCredential {
    kind: CredentialKind,
    id: Uuid,
    token: SecretString,
}

impl IssuedCredential {
    /// What the credential is for.
    #[must_use]
    pub const fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The lookup id embedded in the token.
    #[must_use]
    pub const fn id(&self) -> Uuid {
        self.id
    }

    /// The whole token string, for the response or file that delivers it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        self.token.expose_secret()
    }
}

impl fmt::Debug for IssuedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredential")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("token", &Redacted)
            .finish()
    }
}

/// A presented credential that is well formed: right prefix, length, alphabet and
/// checksum. Not yet authentic: look the id up and call [`verify`](Self::verify) with
/// the stored digest.
pub struct ParsedCredential {
    kind: CredentialKind,
    id: Uuid,
    token: SecretString,
}

impl ParsedCredential {
    /// Checks the shape of `s` without any I/O, cheapest checks first: length bounds,
    /// prefix (and `expected` kind when given), exact length, alphabet, checksum.
    ///
    /// On the hot path of every API call: the only allocation is the secret copy of
    /// `s` kept for [`verify`](Self::verify), made once every check has passed.
    ///
    /// # Errors
    ///
    /// A [`CredentialError`] naming the first check that failed; its message never
    /// contains `s`.
    pub fn parse(expected: Option<CredentialKind>, s: &str) -> Result<Self, CredentialError> {
        if s.len() < MIN_CREDENTIAL_LEN || s.len() > MAX_CREDENTIAL_LEN {
            return Err(CredentialError::Length);
        }
        let kind = CredentialKind::from_prefix_of(s).ok_or(CredentialError::UnknownPrefix)?;
        if let Some(expected) = expected
            && expected != kind
        {
            return Err(CredentialError::WrongKind { expected, found: kind });
        }
        if s.len() != kind.token_len() {
            return Err(CredentialError::Length);
        }

        // Byte offsets from here on: the prefix is ASCII and the rest must be.
        let bytes = s.as_bytes();
        let checked_len = bytes.len() - CHECKSUM_CHARS;
        let body = &bytes[kind.prefix().len()..];
        let (id_part, rest) = body.split_at(ID_CHARS);
        let (secret_part, checksum_part) = rest.split_at(SECRET_CHARS);

        let id = base62::decode::<ID_BYTES>(id_part).map_err(|_| CredentialError::Encoding)?;
        // Decoded only to reject values that overflow 256 bits, then wiped: the
        // string is the credential, there is one canonical string per secret.
        let mut secret = base62::decode::<SECRET_BYTES>(secret_part).map_err(|_| CredentialError::Encoding)?;
        secret.zeroize();
        let checksum = base62::decode::<CHECKSUM_BYTES>(checksum_part).map_err(|_| CredentialError::Encoding)?;
        // A CRC is public: no need for a constant-time comparison here.
        if u32::from_be_bytes(checksum) != crc32fast::hash(&bytes[..checked_len]) {
            return Err(CredentialError::Checksum);
        }

        Ok(Self { kind, id: Uuid::from_bytes(id), token: SecretString::from(s) })
    }

    /// What the credential is for.
    #[must_use]
    pub const fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The lookup id: the key of the row whose digest to [`verify`](Self::verify)
    /// against.
    #[must_use]
    pub const fn id(&self) -> Uuid {
        self.id
    }

    /// SHA-256 of the whole token string (DESIGN.md §4).
    #[must_use]
    pub fn digest(&self) -> SecretDigest {
        digest_secret(self.token.expose_secret())
    }

    /// Whether this is the credential whose digest is `stored`: SHA-256 of the whole
    /// string compared in constant time (DESIGN.md §4).
    #[must_use]
    pub fn verify(&self, stored: &SecretDigest) -> bool {
        self.digest().as_bytes().as_slice().ct_eq(stored.as_bytes().as_slice()).into()
    }
}

impl fmt::Debug for ParsedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedCredential")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("token", &Redacted)
            .finish()
    }
}

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    // Named explicitly: proptest's prelude exports traits of another rand version.
    use rand::rngs::StdRng;
    use rand::{CryptoRng, RngCore, SeedableRng as _};

    use super::*;

    /// A byte counter posing as a CSPRNG, so that a generated token is predictable.
    struct CountingRng(u8);

    impl RngCore for CountingRng {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for byte in dest {
                *byte = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl CryptoRng for CountingRng {}

    const GOLDEN_ID: Uuid = uuid::uuid!("0191e7a2-4b3c-7d5e-8f60-718293a4b5c6");

    fn kind_strategy() -> impl Strategy<Value = CredentialKind> {
        prop::sample::select(CredentialKind::ALL.to_vec())
    }

    fn generate(kind: CredentialKind, seed: u64) -> (IssuedCredential, SecretDigest) {
        let id = Uuid::from_u128(u128::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
        Credential::generate(kind, id, &mut StdRng::seed_from_u64(seed))
    }

    /// Never accepted as `stored`'s credential: fails to parse, or parses and does
    /// not verify.
    fn never_verifies(candidate: &str, stored: &SecretDigest) -> bool {
        match ParsedCredential::parse(None, candidate) {
            Ok(parsed) => !parsed.verify(stored),
            Err(_) => true,
        }
    }

    /// Independent vectors (Python: `int.from_bytes` base62 and `zlib.crc32`), with
    /// secret bytes 0, 1, …, 31. Pins the format: changing it would invalidate every
    /// stored digest.
    #[test]
    fn golden_vectors() {
        let cases = [
            (
                CredentialKind::Pat,
                "tsr_pat_02xfbNwGojrATysHz3mMsA003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf2M0eK4",
                "a7d3b60b5a75ae1376cd61c0e414865514aff93f314e64d40ccfa6d8d355b8c7",
            ),
            (
                CredentialKind::AccessToken,
                "tsr_at_02xfbNwGojrATysHz3mMsA003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf39wy3i",
                "d94f9bd8dac0fe61eef234844f582302ed30c1c55f320992ce96613ab20550c3",
            ),
            (
                CredentialKind::ClientSecret,
                "tsr_cs_02xfbNwGojrATysHz3mMsA003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf26KBz6",
                "0982b91914123924ea7189e51a2c0d6c5e5d9a3e3ca3ab8bf6302c7ff6254e52",
            ),
        ];
        for (kind, expected_token, expected_digest_hex) in cases {
            let (issued, digest) = Credential::generate(kind, GOLDEN_ID, &mut CountingRng(0));

            assert_eq!(issued.expose_secret(), expected_token);
            let hex: String = digest.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, expected_digest_hex);
            let parsed = ParsedCredential::parse(Some(kind), expected_token).unwrap();
            assert_eq!(parsed.id(), GOLDEN_ID);
            assert!(parsed.verify(&digest));
        }
    }

    #[test]
    fn prefixes_are_distinct_and_unambiguous() {
        for a in CredentialKind::ALL {
            assert!(a.prefix().starts_with("tsr_") && a.prefix().ends_with('_'));
            for b in CredentialKind::ALL {
                if a != b {
                    assert!(!a.prefix().starts_with(b.prefix()), "{a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(BODY_CHARS, 22 + 43 + 6);
        assert_eq!(CredentialKind::Pat.token_len(), 79);
        assert_eq!(CredentialKind::AccessToken.token_len(), 78);
        assert_eq!(CredentialKind::ClientSecret.token_len(), 78);
        assert_eq!(MIN_CREDENTIAL_LEN, 78);
        for kind in CredentialKind::ALL {
            assert!(kind.token_len() <= MAX_CREDENTIAL_LEN);
        }
    }

    #[test]
    fn generated_token_has_the_documented_shape() {
        for kind in CredentialKind::ALL {
            let (issued, _) = generate(kind, 7);
            let token = issued.expose_secret();

            assert_eq!(issued.kind(), kind);
            assert_eq!(token.len(), kind.token_len());
            let body = token.strip_prefix(kind.prefix()).unwrap();
            assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn rng_output_is_the_secret() {
        let (a, _) = Credential::generate(CredentialKind::Pat, GOLDEN_ID, &mut CountingRng(0));
        let (b, _) = Credential::generate(CredentialKind::Pat, GOLDEN_ID, &mut CountingRng(1));

        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret()[..8 + 22], b.expose_secret()[..8 + 22]);
    }

    #[test]
    fn verify_rejects_another_credentials_digest() {
        let (a, _) = generate(CredentialKind::Pat, 1);
        let (_, other_digest) = generate(CredentialKind::Pat, 2);

        let parsed = ParsedCredential::parse(None, a.expose_secret()).unwrap();

        assert!(!parsed.verify(&other_digest));
        assert!(!parsed.verify(&SecretDigest::from_bytes([0; 32])));
    }

    #[test]
    fn digests_agree() {
        let (issued, digest) = generate(CredentialKind::ClientSecret, 3);
        let parsed = ParsedCredential::parse(None, issued.expose_secret()).unwrap();

        assert_eq!(parsed.digest().as_bytes(), digest.as_bytes());
        assert_eq!(digest_secret(issued.expose_secret()).as_bytes(), digest.as_bytes());
    }

    #[test]
    fn digest_secret_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let hex: String = digest_secret("abc").as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn length_is_checked_first() {
        let (issued, _) = generate(CredentialKind::Pat, 4);
        let token = issued.expose_secret();

        assert_eq!(ParsedCredential::parse(None, "").map(drop_ok), Err(CredentialError::Length));
        assert_eq!(
            ParsedCredential::parse(None, &"x".repeat(MAX_CREDENTIAL_LEN + 1)).map(drop_ok),
            Err(CredentialError::Length)
        );
        assert_eq!(
            ParsedCredential::parse(None, &"x".repeat(MIN_CREDENTIAL_LEN - 1)).map(drop_ok),
            Err(CredentialError::Length)
        );
        // A valid token padded past the bound: still a length error, not a prefix one.
        let padded = format!("{token}{}", "0".repeat(MAX_CREDENTIAL_LEN));
        assert_eq!(ParsedCredential::parse(None, &padded).map(drop_ok), Err(CredentialError::Length));
        // Within bounds but not the exact length of its kind.
        assert_eq!(ParsedCredential::parse(None, &format!("{token}0")).map(drop_ok), Err(CredentialError::Length));
        // 78 bytes with the 8-byte PAT prefix.
        assert_eq!(ParsedCredential::parse(None, &token[..token.len() - 1]).map(drop_ok), Err(CredentialError::Length));
    }

    /// `ParsedCredential` deliberately has no `PartialEq`: compare outcomes.
    fn drop_ok(_: ParsedCredential) {}

    #[test]
    fn rejects_unknown_prefixes() {
        let (issued, _) = generate(CredentialKind::AccessToken, 5);
        let body = issued.expose_secret().strip_prefix("tsr_at_").unwrap();

        for prefix in ["tsr_xx_", "TSR_AT_", "tsr-at_", "sr_at_x", "tsr_at-", "Bearer ", "tsr_pa_"] {
            let candidate = format!("{prefix}{body}");
            assert_eq!(
                ParsedCredential::parse(None, &candidate).map(drop_ok),
                Err(CredentialError::UnknownPrefix),
                "{prefix}"
            );
        }
    }

    #[test]
    fn rejects_the_wrong_kind() {
        for found in CredentialKind::ALL {
            let (issued, _) = generate(found, 6);
            for expected in CredentialKind::ALL {
                let result = ParsedCredential::parse(Some(expected), issued.expose_secret());
                if expected == found {
                    assert_eq!(result.unwrap().kind(), found);
                } else {
                    assert_eq!(result.map(drop_ok), Err(CredentialError::WrongKind { expected, found }));
                }
            }
        }
    }

    #[test]
    fn rejects_non_alphabet_characters() {
        let (issued, _) = generate(CredentialKind::Pat, 8);
        let token = issued.expose_secret();

        for bad in ["_", "-", "+", "/", "=", " ", "\0"] {
            for position in [8, 8 + 22, 8 + 22 + 43, token.len() - 1] {
                let candidate = format!("{}{bad}{}", &token[..position], &token[position + 1..]);
                assert_eq!(ParsedCredential::parse(None, &candidate).map(drop_ok), Err(CredentialError::Encoding));
            }
        }
        // A two-byte character in place of two digits keeps the byte length.
        let candidate = format!("{}é{}", &token[..10], &token[12..]);
        assert_eq!(ParsedCredential::parse(None, &candidate).map(drop_ok), Err(CredentialError::Encoding));
    }

    /// Builds a token from raw parts with a correct checksum, bypassing `generate`.
    fn assemble(kind: CredentialKind, id_part: &str, secret_part: &str) -> String {
        let head = format!("{}{id_part}{secret_part}", kind.prefix());
        let mut checksum = [0u8; CHECKSUM_CHARS];
        assert!(base62::encode_into(&crc32fast::hash(head.as_bytes()).to_be_bytes(), &mut checksum));
        format!("{head}{}", std::str::from_utf8(&checksum).unwrap())
    }

    #[test]
    fn rejects_parts_that_overflow_their_width() {
        let zero_secret = "0".repeat(SECRET_CHARS);
        let zero_id = "0".repeat(ID_CHARS);

        let max_ok = assemble(CredentialKind::Pat, "7n42DGM5Tflk9n8mt7Fhc7", &zero_secret);
        let parsed = ParsedCredential::parse(None, &max_ok).unwrap();
        assert_eq!(parsed.id(), Uuid::max());

        let id_overflow = assemble(CredentialKind::Pat, "7n42DGM5Tflk9n8mt7Fhc8", &zero_secret);
        let secret_overflow = assemble(CredentialKind::Pat, &zero_id, &"z".repeat(SECRET_CHARS));
        for candidate in [id_overflow, secret_overflow] {
            assert_eq!(ParsedCredential::parse(None, &candidate).map(drop_ok), Err(CredentialError::Encoding));
        }

        let mut checksum_overflow = max_ok;
        checksum_overflow.replace_range(checksum_overflow.len() - CHECKSUM_CHARS.., "zzzzzz");
        assert_eq!(ParsedCredential::parse(None, &checksum_overflow).map(drop_ok), Err(CredentialError::Encoding));
    }

    #[test]
    fn rejects_a_bad_checksum() {
        let (issued, _) = generate(CredentialKind::Pat, 9);
        let token = issued.expose_secret();
        // Swap two different adjacent digits of the secret part.
        let position = (8 + 22..8 + 22 + 43).find(|&i| token.as_bytes()[i] != token.as_bytes()[i + 1]).unwrap();
        let mut swapped = token.as_bytes().to_vec();
        swapped.swap(position, position + 1);
        let swapped = String::from_utf8(swapped).unwrap();

        assert_eq!(ParsedCredential::parse(None, &swapped).map(drop_ok), Err(CredentialError::Checksum));
    }

    #[test]
    fn every_single_substitution_fails_at_parse() {
        let alphabet: Vec<char> = ('0'..='9').chain('A'..='Z').chain('a'..='z').chain(['_', '-', ' ', 'é']).collect();
        for kind in CredentialKind::ALL {
            let (issued, digest) = generate(kind, 10);
            let token: Vec<char> = issued.expose_secret().chars().collect();
            for position in 0..token.len() {
                for &c in &alphabet {
                    if c == token[position] {
                        continue;
                    }
                    let mut candidate = token.clone();
                    candidate[position] = c;
                    let candidate: String = candidate.into_iter().collect();

                    // CRC32 detects every error within 32 bits, so none gets past
                    // parse; verify is the second line of defence.
                    assert!(ParsedCredential::parse(None, &candidate).is_err(), "{position} {c}");
                    assert!(never_verifies(&candidate, &digest));
                }
            }
        }
    }

    #[test]
    fn errors_and_debug_never_show_the_token() {
        let (issued, _) = generate(CredentialKind::Pat, 11);
        let token = issued.expose_secret();
        let secret_part = &token[8 + 22..8 + 22 + 43];
        let parsed = ParsedCredential::parse(None, token).unwrap();

        let printed = [format!("{issued:?}"), format!("{parsed:?}"), format!("{:?}", parsed.digest())];
        for text in &printed {
            assert!(!text.contains(secret_part), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }

        let mut broken = token.to_owned();
        broken.replace_range(40..41, if &token[40..41] == "A" { "B" } else { "A" });
        let candidates = [
            broken,
            format!("{token}0"),
            token[..token.len() - 1].to_owned(),
            token.replacen("tsr_pat_", "tsr_xxx_", 1),
        ];
        for candidate in &candidates {
            for expected in [None, Some(CredentialKind::AccessToken)] {
                let error = ParsedCredential::parse(expected, candidate).unwrap_err();
                for text in [error.to_string(), format!("{error:?}")] {
                    assert!(!text.contains(secret_part), "{text}");
                    assert!(!text.contains(&token[8..30]), "{text}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn generated_tokens_parse_and_verify(
            kind in kind_strategy(),
            id in any::<u128>(),
            seed in any::<[u8; 32]>(),
        ) {
            let id = Uuid::from_u128(id);
            let (issued, digest) = Credential::generate(kind, id, &mut StdRng::from_seed(seed));

            let parsed = ParsedCredential::parse(Some(kind), issued.expose_secret()).unwrap();

            prop_assert_eq!(parsed.kind(), kind);
            prop_assert_eq!(parsed.id(), id);
            prop_assert!(parsed.verify(&digest));
            prop_assert!(ParsedCredential::parse(None, issued.expose_secret()).is_ok());
        }

        /// Every truncation, every one-character insertion at every position and every
        /// substitution at every position is rejected.
        #[test]
        fn altered_tokens_never_verify(
            kind in kind_strategy(),
            seed in any::<u64>(),
            c in prop_oneof![
                prop::sample::select(
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_".to_vec()
                ).prop_map(char::from),
                any::<char>(),
            ],
        ) {
            let (issued, digest) = generate(kind, seed);
            let token = issued.expose_secret();

            for end in 0..token.len() {
                prop_assert!(never_verifies(&token[..end], &digest));
                prop_assert!(never_verifies(&token[end + 1..], &digest));
            }
            for position in 0..=token.len() {
                let mut extended = token.to_owned();
                extended.insert(position, c);
                prop_assert!(never_verifies(&extended, &digest));
            }
            for position in 0..token.len() {
                if token[position..].starts_with(c) {
                    continue;
                }
                let mut substituted = token.to_owned();
                substituted.replace_range(position..=position, c.encode_utf8(&mut [0; 4]));
                prop_assert!(never_verifies(&substituted, &digest));
            }
        }

        #[test]
        fn arbitrary_strings_never_panic(s in prop::collection::vec(any::<char>(), 0..4096)) {
            let s: String = s.into_iter().collect();
            for expected in [None, Some(CredentialKind::Pat)] {
                if let Ok(parsed) = ParsedCredential::parse(expected, &s) {
                    prop_assert_eq!(s.len(), parsed.kind().token_len());
                }
            }
        }

        /// Strings that get past the prefix and length checks reach the decoder and
        /// the checksum; random ones must fail there.
        #[test]
        fn near_miss_strings_are_rejected(
            s in "tsr_(pat|at|cs)_([0-9A-Za-z]{70,72}|[0-9A-Za-z_é\\-]{71})",
        ) {
            let result = ParsedCredential::parse(None, &s);
            prop_assert!(result.is_err());
        }
    }
}
