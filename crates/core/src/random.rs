//! Implementations of the [`Rng`] port: the operating system's generator for the
//! server, a seeded one for tests, and [`RngRef`], which lends either to code
//! that takes a `rand` generator (credentials, RSA key generation).

use std::sync::Mutex;

use rand::rngs::{OsRng, StdRng};
use rand::{CryptoRng, RngCore, SeedableRng};
use tessera_domain::Rng;

/// The operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Rng for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        OsRng.fill_bytes(dest);
    }
}

/// A deterministic generator for tests (ChaCha, seeded).
#[derive(Debug)]
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Rng for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        // A poisoned lock only means another test thread panicked mid-fill; the
        // generator's state is still a valid state.
        let mut rng = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        rng.fill_bytes(dest);
    }
}

/// The injected [`Rng`] as a `rand` generator.
pub struct RngRef<'a>(&'a dyn Rng);

impl<'a> RngRef<'a> {
    /// Wraps `rng`.
    #[must_use]
    pub fn new(rng: &'a dyn Rng) -> Self {
        Self(rng)
    }

    /// An owned generator seeded from this one, for work moved to another
    /// thread (key generation off the async runtime).
    #[must_use]
    pub fn fork(&mut self) -> StdRng {
        let mut seed = [0u8; 32];
        self.0.fill(&mut seed);
        StdRng::from_seed(seed)
    }
}

impl RngCore for RngRef<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

/// Both implementations of the port are cryptographically secure.
impl CryptoRng for RngRef<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_generator_repeats_and_forks_deterministically() {
        let (a, b) = (SeededRandom::new(42), SeededRandom::new(42));
        let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_eq!(RngRef::new(&a).fork().next_u64(), RngRef::new(&b).fork().next_u64());
        a.fill(&mut x);
        assert_ne!(x, y, "the stream moves on");
    }
}
