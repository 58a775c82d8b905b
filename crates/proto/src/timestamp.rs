//! `google.protobuf.Timestamp` with the proto3 JSON mapping the spec asks for
//! (<https://protobuf.dev/programming-guides/json/>): RFC 3339 in UTC with a
//! `Z`, and 0, 3, 6 or 9 fractional digits. pbjson-types' own type writes
//! `+00:00`, which ZITADEL never sends and strict parsers refuse. It reads any
//! offset, and a timestamp without one as UTC (Python clients send naive
//! datetimes that way; docs/api.md).

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time: seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds of the second, 0..=999_999_999.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Self { seconds: t.timestamp(), nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0) }
    }
}

impl TryFrom<Timestamp> for DateTime<Utc> {
    type Error = &'static str;

    fn try_from(t: Timestamp) -> Result<Self, Self::Error> {
        let nanos = u32::try_from(t.nanos).map_err(|_| "negative nanos")?;
        if nanos > 999_999_999 {
            return Err("nanos out of range");
        }
        DateTime::from_timestamp(t.seconds, nanos).ok_or("out of range")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t: DateTime<Utc> = (*self).try_into().map_err(serde::ser::Error::custom)?;
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
            return Ok(t.with_timezone(&Utc).into());
        }
        // Python clients send naive datetimes without an offset: taken as UTC.
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&text, format) {
                return Ok(t.and_utc().into());
            }
        }
        Err(serde::de::Error::custom("expected an RFC 3339 timestamp such as 2030-01-01T00:00:00Z"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    #[test]
    fn json_is_utc_with_z_and_whole_groups_of_digits() {
        let json = |seconds, nanos| serde_json::to_string(&Timestamp { seconds, nanos }).unwrap();
        assert_eq!(json(0, 0), r#""1970-01-01T00:00:00Z""#);
        assert_eq!(json(1, 500_000_000), r#""1970-01-01T00:00:01.500Z""#);
        assert_eq!(json(1, 1_000), r#""1970-01-01T00:00:01.000001Z""#);
        let back: Timestamp = serde_json::from_str(r#""1970-01-01T01:00:01+01:00""#).unwrap();
        assert_eq!(back, Timestamp { seconds: 1, nanos: 0 });
        assert!(serde_json::from_str::<Timestamp>(r#""yesterday""#).is_err());
        let naive: Timestamp = serde_json::from_str(r#""1970-01-01T00:00:01.5""#).unwrap();
        assert_eq!(naive, Timestamp { seconds: 1, nanos: 500_000_000 });
        assert!(serde_json::to_string(&Timestamp { seconds: 0, nanos: -1 }).is_err());
    }
}
