//! Fixed-width base62 (`0-9A-Za-z`) codec for the parts of an opaque credential.
//!
//! Every part of a credential has a fixed byte width, so it is encoded as a big-endian
//! number written with exactly as many digits as the largest value of that width needs
//! (leading `0` digits included). Fixed widths make the token length constant per kind,
//! which lets the parser reject malformed input by length alone and split the body
//! without separators. Everything works on stack arrays: parsing a token allocates
//! nothing here.

/// The digits, in value order.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Marks a byte that is not a digit in [`DIGIT_VALUES`].
const INVALID: u8 = 0xFF;

/// Value of each byte as a digit, [`INVALID`] for bytes outside the alphabet.
const DIGIT_VALUES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8; // i < 62
        i += 1;
    }
    table
};

/// Number of digits that encodes every `n`-byte value: the smallest `w` with
/// `62^w >= 256^n`, i.e. `ceil(8n / log2 62)`.
///
/// Integer arithmetic with `log2 62 ≈ 5.954196310`; the approximation is exact enough
/// for every width used here, which the `widths_are_minimal` test checks with the codec
/// itself.
pub(crate) const fn encoded_len(n: usize) -> usize {
    const LOG2_62_NANOS: usize = 5_954_196_310;
    (8 * n * 1_000_000_000).div_ceil(LOG2_62_NANOS)
}

/// Why a string is not the encoding of an `N`-byte value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// A byte outside `0-9A-Za-z`.
    InvalidDigit,
    /// The digits denote a value of more than `N` bytes.
    Overflow,
}

/// Writes `bytes` (big-endian) as exactly `out.len()` digits, most significant first.
///
/// Returns `false`, leaving `out` filled with the low-order digits, when the value
/// needs more than `out.len()` digits; with `out.len() == encoded_len(N)` it never
/// does.
#[must_use]
pub(crate) fn encode_into<const N: usize>(bytes: &[u8; N], out: &mut [u8]) -> bool {
    let mut number = *bytes;
    for digit in out.iter_mut().rev() {
        // Long division of the big-endian number by 62, in place.
        let mut remainder: u32 = 0;
        for byte in &mut number {
            let accumulator = (remainder << 8) | u32::from(*byte);
            *byte = (accumulator / 62) as u8; // < 256 because remainder < 62
            remainder = accumulator % 62;
        }
        *digit = ALPHABET[remainder as usize];
    }
    let fits = number.iter().all(|&b| b == 0);
    wipe(&mut number);
    fits
}

/// Reads digits (most significant first) as an `N`-byte big-endian value.
///
/// Any number of digits is accepted as long as the value fits, so callers check the
/// exact width first.
pub(crate) fn decode<const N: usize>(digits: &[u8]) -> Result<[u8; N], DecodeError> {
    let mut number = [0u8; N];
    for &c in digits {
        let value = DIGIT_VALUES[usize::from(c)];
        if value == INVALID {
            wipe(&mut number);
            return Err(DecodeError::InvalidDigit);
        }
        // number = number * 62 + value, carrying from the least significant byte.
        let mut carry = u32::from(value);
        for byte in number.iter_mut().rev() {
            let accumulator = u32::from(*byte) * 62 + carry;
            *byte = accumulator as u8; // the low byte; the rest is carried
            carry = accumulator >> 8;
        }
        if carry != 0 {
            wipe(&mut number);
            return Err(DecodeError::Overflow);
        }
    }
    Ok(number)
}

/// Scratch copies may hold secret material: clear them before they go out of scope.
fn wipe(bytes: &mut [u8]) {
    use secrecy::zeroize::Zeroize as _;
    bytes.zeroize();
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn encode<const N: usize>(bytes: &[u8; N]) -> String {
        let mut out = vec![0u8; encoded_len(N)];
        assert!(encode_into(bytes, &mut out));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn widths_of_credential_parts() {
        assert_eq!(encoded_len(16), 22);
        assert_eq!(encoded_len(32), 43);
        assert_eq!(encoded_len(4), 6);
    }

    /// `encoded_len(n)` digits hold every n-byte value and one digit fewer does not.
    #[test]
    fn widths_are_minimal() {
        fn check<const N: usize>() {
            let max = [0xFF; N];
            let width = encoded_len(N);
            let mut out = vec![0u8; width];
            assert!(encode_into(&max, &mut out), "width {width} too small for {N}");
            let mut short = vec![0u8; width - 1];
            assert!(!encode_into(&max, &mut short), "width {width} not minimal for {N}");
            // The largest string of that width overflows (62^w > 256^n).
            let all_z = vec![b'z'; width];
            assert_eq!(decode::<N>(&all_z), Err(DecodeError::Overflow));
        }
        check::<1>();
        check::<2>();
        check::<3>();
        check::<4>();
        check::<8>();
        check::<15>();
        check::<16>();
        check::<17>();
        check::<31>();
        check::<32>();
        check::<33>();
        check::<64>();
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(&[0u8; 4]), "000000");
        assert_eq!(encode(&[0, 0, 0, 61]), "00000z");
        assert_eq!(encode(&[0, 0, 0, 62]), "000010");
        assert_eq!(encode(&[0xFF; 4]), "4gfFC3"); // 4294967295 in base62
        assert_eq!(encode(&[0u8; 16]), "0".repeat(22));
        assert_eq!(decode::<4>(b"4gfFC3"), Ok([0xFF; 4]));
        assert_eq!(decode::<4>(b"4gfFC4"), Err(DecodeError::Overflow));
        assert_eq!(decode::<2>(b"H31"), Ok([0xFF, 0xFF])); // 65535
        assert_eq!(decode::<2>(b"H32"), Err(DecodeError::Overflow));
    }

    #[test]
    fn alphabet_is_ordered_and_complete() {
        for (i, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(usize::from(DIGIT_VALUES[usize::from(c)]), i);
        }
        let valid = (0..=255u8).filter(|&b| DIGIT_VALUES[usize::from(b)] != INVALID);
        assert_eq!(valid.count(), 62);
    }

    #[test]
    fn rejects_non_alphabet_bytes() {
        for bad in [b'-', b'_', b'+', b'/', b'=', b' ', 0, 0x80, 0xFF] {
            let mut digits = *b"000000";
            digits[3] = bad;
            assert_eq!(decode::<4>(&digits), Err(DecodeError::InvalidDigit));
        }
        assert_eq!(decode::<4>("00é0".as_bytes()), Err(DecodeError::InvalidDigit));
    }

    #[test]
    fn leading_zero_digits_do_not_overflow() {
        let mut digits = vec![b'0'; 1000];
        digits.push(b'z');
        assert_eq!(decode::<1>(&digits), Ok([61]));
    }

    proptest! {
        #[test]
        fn round_trip_16(bytes in any::<[u8; 16]>()) {
            let encoded = encode(&bytes);
            prop_assert_eq!(encoded.len(), 22);
            prop_assert_eq!(decode::<16>(encoded.as_bytes()), Ok(bytes));
        }

        #[test]
        fn round_trip_32(bytes in any::<[u8; 32]>()) {
            let encoded = encode(&bytes);
            prop_assert_eq!(encoded.len(), 43);
            prop_assert_eq!(decode::<32>(encoded.as_bytes()), Ok(bytes));
        }

        #[test]
        fn round_trip_4(bytes in any::<[u8; 4]>()) {
            let encoded = encode(&bytes);
            prop_assert_eq!(encoded.len(), 6);
            prop_assert_eq!(decode::<4>(encoded.as_bytes()), Ok(bytes));
        }

        /// Mostly-zero and mostly-0xFF arrays exercise the edges of the division.
        #[test]
        fn round_trip_edges(
            fill in prop_oneof![Just(0u8), Just(0xFFu8)],
            position in 0usize..32,
            value in any::<u8>(),
        ) {
            let mut bytes = [fill; 32];
            bytes[position] = value;
            prop_assert_eq!(decode::<32>(encode(&bytes).as_bytes()), Ok(bytes));
        }

        /// The encoding preserves order, so comparing digits compares values.
        #[test]
        fn encoding_is_order_preserving(a in any::<[u8; 16]>(), b in any::<[u8; 16]>()) {
            prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        }

        /// Decoding arbitrary digits either fails or re-encodes to the same digits.
        #[test]
        fn decode_is_canonical(digits in "[0-9A-Za-z]{22}") {
            if let Ok(bytes) = decode::<16>(digits.as_bytes()) {
                prop_assert_eq!(encode(&bytes), digits);
            }
        }
    }

    #[test]
    fn round_trip_all_zero_and_all_ff() {
        for fill in [0u8, 0xFF] {
            assert_eq!(decode::<16>(encode(&[fill; 16]).as_bytes()), Ok([fill; 16]));
            assert_eq!(decode::<32>(encode(&[fill; 32]).as_bytes()), Ok([fill; 32]));
            assert_eq!(decode::<4>(encode(&[fill; 4]).as_bytes()), Ok([fill; 4]));
        }
    }
}
