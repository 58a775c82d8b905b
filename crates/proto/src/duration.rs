//! `google.protobuf.Duration` with the proto3 JSON mapping
//! (<https://protobuf.dev/programming-guides/json/>): seconds with 0, 3, 6 or 9
//! fractional digits and the suffix `s`, e.g. `"2592000s"` or `"-0.5s"`. Its
//! own type, as [`Timestamp`](crate::Timestamp) is, so a malformed duration
//! gets an error that says what was expected, and one conversion to
//! `chrono::Duration` checks the protobuf range.

/// Largest `google.protobuf.Duration`: ±10 000 years in seconds.
pub const MAX_SECONDS: i64 = 315_576_000_000;

/// A signed span of time: whole seconds and nanoseconds of the same sign.
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Duration {
    /// Seconds, within ±[`MAX_SECONDS`].
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds, -999_999_999..=999_999_999, with the sign of `seconds`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// What a malformed duration gets told (no quotes: API errors never quote input).
const EXPECTED: &str = "expected a duration in seconds such as 2592000s";

impl Duration {
    /// Parses the JSON text form.
    ///
    /// # Errors
    /// When the text is not such a duration or is out of the protobuf range.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let body = text.trim().strip_suffix('s').ok_or(EXPECTED)?;
        let (negative, body) = body.strip_prefix('-').map_or((false, body), |rest| (true, rest));
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (body.contains('.') && (!digits(fraction) || fraction.len() > 9)) {
            return Err(EXPECTED);
        }
        let seconds: i64 = whole.parse().map_err(|_| "the duration is out of range")?;
        if seconds > MAX_SECONDS {
            return Err("the duration is out of range");
        }
        let nanos: i32 =
            if fraction.is_empty() { 0 } else { format!("{fraction:0<9}").parse().map_err(|_| EXPECTED)? };
        Ok(if negative { Self { seconds: -seconds, nanos: -nanos } } else { Self { seconds, nanos } })
    }

    /// Whether the two fields are within range and agree in sign.
    fn is_valid(self) -> bool {
        self.seconds.abs() <= MAX_SECONDS
            && self.nanos.abs() <= 999_999_999
            && !(self.seconds > 0 && self.nanos < 0)
            && !(self.seconds < 0 && self.nanos > 0)
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nanos == 0 {
            return write!(f, "{}s", self.seconds);
        }
        let sign = if self.seconds < 0 || self.nanos < 0 { "-" } else { "" };
        let fraction = format!("{:09}", self.nanos.unsigned_abs());
        let fraction = match fraction.trim_end_matches('0').len() {
            0..=3 => &fraction[..3],
            4..=6 => &fraction[..6],
            _ => &fraction[..],
        };
        write!(f, "{sign}{}.{fraction}s", self.seconds.unsigned_abs())
    }
}

impl From<chrono::Duration> for Duration {
    fn from(d: chrono::Duration) -> Self {
        // chrono keeps the sub-second part non-negative; protobuf gives both the same sign.
        let mut seconds = d.num_seconds();
        let mut nanos = d.subsec_nanos();
        if seconds < 0 && nanos > 0 {
            seconds += 1;
            nanos -= 1_000_000_000;
        }
        Self { seconds, nanos }
    }
}

impl TryFrom<Duration> for chrono::Duration {
    type Error = &'static str;

    fn try_from(d: Duration) -> Result<Self, Self::Error> {
        if !d.is_valid() {
            return Err("the duration is out of range");
        }
        let whole = chrono::Duration::try_seconds(d.seconds).ok_or("the duration is out of range")?;
        Ok(whole + chrono::Duration::nanoseconds(i64::from(d.nanos)))
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.is_valid() {
            return Err(serde::ser::Error::custom("the duration is out of range"));
        }
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    fn chrono_of(text: &str) -> chrono::Duration {
        Duration::parse(text).unwrap().try_into().unwrap()
    }

    #[test]
    fn json_text_reads_seconds_with_up_to_nine_digits() {
        assert_eq!(chrono_of("2592000s"), chrono::Duration::days(30));
        assert_eq!(chrono_of("0s"), chrono::Duration::zero());
        assert_eq!(chrono_of("1.5s"), chrono::Duration::milliseconds(1500));
        assert_eq!(chrono_of("-2s"), chrono::Duration::seconds(-2));
        assert_eq!(chrono_of("-0.5s"), chrono::Duration::milliseconds(-500));
        for bad in ["", "s", "30d", "2592000", "1.s", ".5s", "1.0000000001s", "9999999999999s", "1e3s", "+1s"] {
            assert!(Duration::parse(bad).is_err(), "{bad:?}");
        }
        let err = serde_json::from_str::<Duration>(r#""30d""#).unwrap_err().to_string();
        assert!(!err.contains('"'), "{err}");
    }

    #[test]
    fn json_text_writes_whole_groups_of_digits_with_one_sign() {
        let json = |d: chrono::Duration| serde_json::to_string(&Duration::from(d)).unwrap();
        assert_eq!(json(chrono::Duration::days(30)), r#""2592000s""#);
        assert_eq!(json(chrono::Duration::milliseconds(1500)), r#""1.500s""#);
        assert_eq!(json(chrono::Duration::milliseconds(-500)), r#""-0.500s""#);
        assert_eq!(json(chrono::Duration::milliseconds(-1500)), r#""-1.500s""#);
        assert_eq!(json(chrono::Duration::nanoseconds(1_000)), r#""0.000001s""#);
        assert!(serde_json::to_string(&Duration { seconds: 1, nanos: -1 }).is_err());
        assert!(serde_json::to_string(&Duration { seconds: MAX_SECONDS + 1, nanos: 0 }).is_err());
        assert!(chrono::Duration::try_from(Duration { seconds: i64::MAX, nanos: 0 }).is_err());
    }
}
