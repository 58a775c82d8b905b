//! argon2id hashing of human passwords (console login), and generated passwords for
//! the bootstrap admin (DESIGN.md §4).
//!
//! Only for secrets people choose: generated credentials have 256 random bits and are
//! hashed with SHA-256 by [`crate::credential`] instead, because client
//! authentication must not cost milliseconds.
//!
//! Hashing and verifying take tens of milliseconds of CPU and 19 MiB of memory by
//! design: callers on the async runtime use [`PasswordHasher::hash_async`] and
//! [`PasswordHasher::verify_async`], which run them on the blocking pool in the
//! hasher's bounded [`WorkSlots`] (DESIGN.md §8), never directly in a handler.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHashString, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::{CryptoRng, Rng as _, RngCore};
use secrecy::zeroize::Zeroize as _;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;
use tessera_domain::user::PasswordHash;

use crate::slots::{SlotError, WorkSlots};

/// argon2id cost parameters. The default is the argon2 crate's, which is OWASP's
/// recommendation: 19 MiB of memory, 2 passes, 1 lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory cost `m` in KiB.
    pub memory_kib: u32,
    /// Number of passes `t`.
    pub iterations: u32,
    /// Degree of parallelism `p` (lanes).
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

/// Why a password could not be hashed. Messages never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The configured cost parameters are outside what argon2 accepts.
    #[error("invalid argon2 parameters")]
    InvalidParams(#[source] argon2::Error),
    /// argon2 refused to hash (for instance a password longer than 2³² − 1 bytes).
    #[error("password hashing failed")]
    Hashing(#[source] argon2::password_hash::Error),
    /// The hashing slots and their queue are full, or the job did not finish.
    #[error(transparent)]
    Slots(#[from] SlotError),
}

/// Hashes and verifies human passwords with argon2id v0x13 (DESIGN.md §4).
///
/// All methods are synchronous and CPU-bound: call them from `spawn_blocking`.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    params: PasswordParams,
    /// Hash of a random password with the same parameters, verified against when
    /// there is no real hash so that the answer takes as long either way. Made on
    /// first use: computing it at start-up would cost every start one hash and
    /// its 19 MiB of memory, though most starts never see a console login.
    dummy: Arc<OnceLock<Option<PasswordHashString>>>,
    /// Where the async methods run: a fixed number at once, a short queue.
    slots: WorkSlots,
}

impl PasswordHasher {
    /// A hasher with the given costs. Cheap; clones share the dummy hash.
    ///
    /// # Errors
    ///
    /// [`PasswordError::InvalidParams`] when argon2 rejects `params`.
    pub fn new(params: PasswordParams) -> Result<Self, PasswordError> {
        let argon2_params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(PasswordError::InvalidParams)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);
        Ok(Self { argon2, params, dummy: Arc::default(), slots: WorkSlots::per_core() })
    }

    /// The same hasher running its async work in `slots` (which may be shared
    /// with other heavy work, so that all of it together stays bounded).
    #[must_use]
    pub fn with_slots(mut self, slots: WorkSlots) -> Self {
        self.slots = slots;
        self
    }

    /// The slots the async methods run in.
    #[must_use]
    pub const fn slots(&self) -> &WorkSlots {
        &self.slots
    }

    /// [`Self::hash`] on the blocking pool, in one of the hasher's slots.
    ///
    /// # Errors
    /// [`PasswordError::Slots`] at once when the slots and their queue are
    /// full; [`PasswordError::Hashing`] as [`Self::hash`].
    pub async fn hash_async(&self, password: SecretString) -> Result<PasswordHash, PasswordError> {
        let hasher = self.clone();
        self.slots.run(move || hasher.hash(&password)).await?
    }

    /// [`Self::verify`] on the blocking pool, in one of the hasher's slots.
    ///
    /// # Errors
    /// [`PasswordError::Slots`] at once when the slots and their queue are full.
    pub async fn verify_async(
        &self,
        password: SecretString,
        hash: Option<PasswordHash>,
    ) -> Result<bool, PasswordError> {
        let hasher = self.clone();
        Ok(self.slots.run(move || hasher.verify(&password, hash.as_ref())).await?)
    }

    /// The cost parameters new hashes are made with.
    #[must_use]
    pub const fn params(&self) -> PasswordParams {
        self.params
    }

    /// Hashes `password` with a fresh random salt (from the OS) into a PHC string.
    ///
    /// # Errors
    ///
    /// [`PasswordError::Hashing`] when argon2 refuses the input.
    pub fn hash(&self, password: &SecretString) -> Result<PasswordHash, PasswordError> {
        hash_phc(&self.argon2, password).map(|phc| PasswordHash::from_phc(phc.to_string()))
    }

    /// Whether `password` matches `hash`, with the costs recorded in `hash` (so hashes
    /// made with older parameters keep working).
    ///
    /// When `hash` is `None` (unknown user, or a user without a password) or is not a
    /// valid PHC string, verifies against the dummy hash and returns `false`: the
    /// answer takes as long as for an existing user, so timing does not reveal which
    /// usernames exist (DESIGN.md §4).
    #[must_use]
    pub fn verify(&self, password: &SecretString, hash: Option<&PasswordHash>) -> bool {
        let password = password.expose_secret().as_bytes();
        let parsed = hash.and_then(|hash| argon2::PasswordHash::new(hash.as_phc()).ok());
        match parsed {
            Some(parsed) => self.verify_phc(password, &parsed),
            None => {
                // The outcome is irrelevant: only the time it takes matters.
                let dummy = self.dummy.get_or_init(|| hash_phc(&self.argon2, &generate_password(&mut OsRng)).ok());
                if let Some(dummy) = dummy {
                    let _ = self.verify_phc(password, &dummy.password_hash());
                }
                false
            }
        }
    }

    /// What `argon2::PasswordVerifier::verify_password` does, but in the
    /// calling thread's reused argon2 memory ([`BLOCKS`]) instead of 19 MiB
    /// allocated and freed per check, which the allocator keeps per thread and
    /// so let the memory of parallel logins pile up. The comparison is
    /// constant-time.
    fn verify_phc(&self, password: &[u8], hash: &argon2::PasswordHash<'_>) -> bool {
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
        let Ok(params) = Params::try_from(hash) else { return false };
        let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else { return false };
        let version = match hash.version.map(Version::try_from).transpose() {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => return false,
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        // Memory is reused up to the configured cost; a hash made with a larger
        // one (an older configuration) gets memory of its own, not kept.
        let configured = Params::new(self.params.memory_kib, self.params.iterations, self.params.parallelism, None)
            .map_or(0, |p| p.block_count());
        let computed = if blocks <= configured {
            BLOCKS.with(|cell| match cell.try_borrow_mut() {
                Ok(mut memory) => {
                    if memory.len() < blocks {
                        memory.resize(blocks, argon2::Block::default());
                    }
                    argon2.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
                }
                Err(_) => argon2.hash_password_into(password, salt, &mut out),
            })
        } else {
            argon2.hash_password_into(password, salt, &mut out)
        };
        computed.is_ok() && bool::from(expected.as_bytes().ct_eq(&out))
    }
}

thread_local! {
    /// The argon2 memory of this thread, reused by every check it runs: with
    /// the checks on the fixed slot threads of [`WorkSlots`], the memory held
    /// is one configured cost (19 MiB) per slot, however many logins come.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Hashes `password` with a fresh random salt from the OS.
fn hash_phc(argon2: &Argon2<'_>, password: &SecretString) -> Result<PasswordHashString, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.serialize())
        .map_err(PasswordError::Hashing)
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

/// Characters of generated passwords: letters and digits without the look-alikes
/// `0 O o 1 I l`, so a password read off a screen can be typed back.
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// Length of generated passwords: 24 characters of a 56-character alphabet, about 139
/// bits of entropy.
pub const GENERATED_PASSWORD_LEN: usize = 24;

/// Generates a password for the bootstrap admin (DESIGN.md §2): 24 characters drawn
/// uniformly from an alphabet without look-alike characters, with at least one
/// upper-case letter, one lower-case letter and one digit so that common complexity
/// policies accept it.
pub fn generate_password<R>(rng: &mut R) -> SecretString
where
    R: RngCore + CryptoRng + ?Sized,
{
    loop {
        let mut password = String::with_capacity(GENERATED_PASSWORD_LEN);
        for _ in 0..GENERATED_PASSWORD_LEN {
            let index = rng.gen_range(0..PASSWORD_ALPHABET.len());
            password.push(char::from(PASSWORD_ALPHABET[index]));
        }
        let has = |class: fn(&u8) -> bool| password.as_bytes().iter().any(class);
        if has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit) {
            return SecretString::from(password);
        }
        // Rejection keeps the draw uniform over the accepted passwords.
        password.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;

    use super::*;

    /// Cheap costs, so the tests run fast; the defaults are covered separately.
    fn cheap() -> PasswordHasher {
        PasswordHasher::new(PasswordParams { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn default_params_are_owasp() {
        assert_eq!(PasswordParams::default(), PasswordParams { memory_kib: 19_456, iterations: 2, parallelism: 1 });
    }

    #[test]
    fn default_hasher_makes_argon2id_v19_phc_strings() {
        let hasher = PasswordHasher::new(PasswordParams::default()).unwrap();

        let hash = hasher.hash(&secret("correct horse battery staple")).unwrap();

        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
        assert!(hasher.verify(&secret("correct horse battery staple"), Some(&hash)));
    }

    #[test]
    fn verifies_the_right_password() {
        let hasher = cheap();
        let hash = hasher.hash(&secret("Tr0ub4dor&3")).unwrap();

        assert!(hasher.verify(&secret("Tr0ub4dor&3"), Some(&hash)));
    }

    #[test]
    fn rejects_a_wrong_password() {
        let hasher = cheap();
        let hash = hasher.hash(&secret("Tr0ub4dor&3")).unwrap();

        for wrong in ["Tr0ub4dor&4", "tr0ub4dor&3", "Tr0ub4dor&3 ", "", "Tr0ub4dor"] {
            assert!(!hasher.verify(&secret(wrong), Some(&hash)), "{wrong:?}");
        }
    }

    #[test]
    fn no_hash_never_verifies() {
        let hasher = cheap();

        assert!(!hasher.verify(&secret("anything"), None));
        assert!(!hasher.verify(&secret(""), None));
    }

    /// The dummy costs what a real verification with the current parameters costs.
    #[test]
    fn dummy_hash_uses_the_configured_params() {
        let hasher = PasswordHasher::new(PasswordParams::default()).unwrap();
        assert!(hasher.dummy.get().is_none(), "made lazily");
        assert!(!hasher.verify(&secret("x"), None));
        let dummy = hasher.dummy.get().unwrap().as_ref().unwrap().password_hash();

        assert_eq!(dummy.algorithm, argon2::ARGON2ID_IDENT);
        assert_eq!(dummy.version, Some(0x13));
        let params = Params::try_from(&dummy).unwrap();
        assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (19_456, 2, 1));
    }

    #[test]
    fn salts_differ() {
        let hasher = cheap();

        let a = hasher.hash(&secret("same password")).unwrap();
        let b = hasher.hash(&secret("same password")).unwrap();

        assert_ne!(a.as_phc(), b.as_phc());
        assert!(hasher.verify(&secret("same password"), Some(&a)));
        assert!(hasher.verify(&secret("same password"), Some(&b)));
    }

    #[test]
    fn hashes_made_with_older_params_still_verify() {
        let old = cheap();
        let hash = old.hash(&secret("kept across upgrades")).unwrap();
        let new = PasswordHasher::new(PasswordParams { memory_kib: 128, iterations: 2, parallelism: 1 }).unwrap();

        assert!(new.verify(&secret("kept across upgrades"), Some(&hash)));
    }

    #[test]
    fn corrupted_hashes_return_false() {
        let hasher = cheap();
        let good = hasher.hash(&secret("pw")).unwrap();
        let phc = good.as_phc();
        let last = phc.len() - 1;
        let flipped_char = if phc.ends_with('A') { "B" } else { "A" };

        let corrupted = [
            String::new(),
            "not a phc string".to_owned(),
            "$argon2id$".to_owned(),
            phc[..phc.len() / 2].to_owned(),
            phc[..last].to_owned(),
            format!("{}{flipped_char}", &phc[..last]),
            phc.replace("$argon2id$", "$argon2xx$"),
            phc.replace("m=64", "m=abc"),
            phc.replace("$v=19$", "$v=99$"),
            format!("{phc}$extra"),
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".to_owned(),
        ];
        for phc in corrupted {
            let hash = PasswordHash::from_phc(phc);
            assert!(!hasher.verify(&secret("pw"), Some(&hash)), "{hash:?}");
        }
    }

    #[test]
    fn rejects_invalid_params() {
        let error = PasswordHasher::new(PasswordParams { memory_kib: 0, iterations: 1, parallelism: 1 }).unwrap_err();

        assert!(matches!(error, PasswordError::InvalidParams(_)));
    }

    #[test]
    fn debug_shows_no_hash() {
        let hasher = cheap();
        let hash = hasher.hash(&secret("pw")).unwrap();

        let printed = format!("{hasher:?} {hash:?}");

        assert!(!printed.contains("$argon2id$"), "{printed}");
    }

    #[test]
    fn generated_passwords_are_long_unambiguous_and_mixed() {
        let mut rng = StdRng::seed_from_u64(42);
        for _ in 0..200 {
            let password = generate_password(&mut rng);
            let password = password.expose_secret();

            assert_eq!(password.len(), GENERATED_PASSWORD_LEN);
            assert!(password.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)), "{password}");
            assert!(!password.contains(['0', 'O', 'o', '1', 'I', 'l']), "{password}");
            assert!(password.bytes().any(|b| b.is_ascii_uppercase()));
            assert!(password.bytes().any(|b| b.is_ascii_lowercase()));
            assert!(password.bytes().any(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn generated_passwords_differ_and_use_the_whole_alphabet() {
        let mut rng = StdRng::seed_from_u64(7);
        let passwords: Vec<SecretString> = (0..100).map(|_| generate_password(&mut rng)).collect();

        let mut seen = [false; 256];
        for password in &passwords {
            for b in password.expose_secret().bytes() {
                seen[usize::from(b)] = true;
            }
        }
        assert!(PASSWORD_ALPHABET.iter().all(|&b| seen[usize::from(b)]));
        let mut distinct: Vec<&str> = passwords.iter().map(|p| p.expose_secret()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), passwords.len());
    }

    #[test]
    fn generated_password_hashes_and_verifies() {
        let hasher = cheap();
        let password = generate_password(&mut OsRng);

        let hash = hasher.hash(&password).unwrap();

        assert!(hasher.verify(&password, Some(&hash)));
    }
}
