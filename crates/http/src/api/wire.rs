//! proto3 JSON mapping helpers (DESIGN.md §3): timestamps as RFC 3339 (any offset
//! accepted, UTC with `Z` written), 64-bit integers written as strings and read
//! from strings or numbers, enums read by name or number, and snake_case field
//! names accepted beside lowerCamelCase.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serializer};
use serde_json::Value;
use tessera_domain::Timestamp;

/// Formats a timestamp the way protojson does: UTC, `Z`, 0/3/6/9 fraction digits.
#[must_use]
pub fn format_ts(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 timestamp with any offset; a timestamp without offset (as
/// Python clients send for naive datetimes) is taken as UTC.
///
/// # Errors
/// When the text is not a timestamp.
pub fn parse_ts(s: &str) -> Result<Timestamp, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(tessera_domain::time::truncate_to_micros(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(tessera_domain::time::truncate_to_micros(t.and_utc()));
        }
    }
    Err("expected an RFC 3339 timestamp such as 2030-01-01T00:00:00Z".into())
}

/// `serde(with = "wire::ts")` for `Timestamp` fields.
pub mod ts {
    use super::*;

    /// Writes RFC 3339 UTC.
    ///
    /// # Errors
    /// Never.
    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_ts(t))
    }

    /// Reads RFC 3339 with any offset.
    ///
    /// # Errors
    /// On anything but a timestamp string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        parse_ts(&s).map_err(de::Error::custom)
    }
}

/// `serde(with = "wire::opt_ts", default)` for optional timestamps.
pub mod opt_ts {
    use super::*;

    /// Writes RFC 3339 UTC (call with `skip_serializing_if = "Option::is_none"`).
    ///
    /// # Errors
    /// Never.
    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_ts(t)),
            None => s.serialize_none(),
        }
    }

    /// Reads an optional timestamp; `null` is absent.
    ///
    /// # Errors
    /// On anything but a timestamp string or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => parse_ts(&s).map(Some).map_err(de::Error::custom),
            None => Ok(None),
        }
    }
}

/// `serde(with = "wire::u64_str")`: 64-bit integers as JSON strings, read from
/// either strings or numbers.
pub mod u64_str {
    use super::*;

    /// Writes a decimal string.
    ///
    /// # Errors
    /// Never.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    /// Reads a string or a number.
    ///
    /// # Errors
    /// On anything that is not a non-negative integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n.as_u64().ok_or_else(|| de::Error::custom("expected a non-negative integer")),
            Value::String(s) => s.trim().parse().map_err(|_| de::Error::custom("expected a non-negative integer")),
            Value::Null => Ok(0),
            _ => Err(de::Error::custom("expected a non-negative integer")),
        }
    }
}

/// Reads a 32-bit unsigned integer from a string or a number.
pub mod u32_any {
    use super::*;

    /// Reads a string or a number.
    ///
    /// # Errors
    /// On anything that is not a non-negative 32-bit integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = u64_str::deserialize(d)?;
        u32::try_from(v).map_err(|_| de::Error::custom("expected a 32-bit integer"))
    }
}

/// `serde(deserialize_with = "wire::offset::deserialize")`: a list offset, at
/// most [`Page::MAX_OFFSET`](tessera_domain::repo::Page::MAX_OFFSET).
pub mod offset {
    use tessera_domain::repo::Page;

    use super::*;

    /// Reads a string or a number up to the bound.
    ///
    /// # Errors
    /// On anything that is not an integer from 0 to the bound.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = u64_str::deserialize(d).map_err(|_| de::Error::custom(OUT_OF_RANGE))?;
        if v > Page::MAX_OFFSET { Err(de::Error::custom(OUT_OF_RANGE)) } else { Ok(v) }
    }

    const OUT_OF_RANGE: &str = "offset must be an integer from 0 to 1000000000";
}

/// How deeply a request body may nest (objects and arrays): filter trees of
/// about ten levels fit, and no recursion anywhere runs deeper.
pub const MAX_DEPTH: usize = 32;

/// How many values (objects, arrays, strings, numbers, …) a request body may
/// hold in all. A filter tree of this size stays far from SQLite's limit of
/// 1000 on expression depth and from both engines' limits on bound parameters.
pub const MAX_VALUES: usize = 2000;

/// How many entries one array of a request may hold: 500 `orQuery` entries
/// make an SQL expression 500 deep, still inside SQLite's bound of 1000.
pub const MAX_ARRAY: usize = 500;

/// A name from the caller's request (a query type, a method), for an error
/// message: `Some` when it looks like a field or method name (what a client
/// author needs to see), `None` otherwise. An error never echoes arbitrary
/// input (a pasted token, kilobytes of junk) back into a response or a log
/// (CONVENTIONS.md §11).
#[must_use]
pub fn key_name(key: &str) -> Option<&str> {
    let looks_like_a_name =
        !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    looks_like_a_name.then_some(key)
}

/// Checks a request body against [`MAX_DEPTH`], [`MAX_VALUES`] and
/// [`MAX_ARRAY`] before anything decodes it further, so no request builds an
/// SQL statement a database refuses or a recursion without bound.
///
/// # Errors
/// A sentence naming the bound that was exceeded (never a value).
pub fn check_shape(v: &Value) -> Result<(), &'static str> {
    fn walk(v: &Value, depth: usize, count: &mut usize) -> Result<(), &'static str> {
        *count += 1;
        if *count > MAX_VALUES {
            return Err("request holds more than 2000 values");
        }
        if depth > MAX_DEPTH {
            return Err("request is nested more than 32 levels deep");
        }
        match v {
            Value::Array(items) => {
                if items.len() > MAX_ARRAY {
                    return Err("request has a list of more than 500 entries");
                }
                items.iter().try_for_each(|i| walk(i, depth + 1, count))
            }
            Value::Object(map) => map.values().try_for_each(|i| walk(i, depth + 1, count)),
            _ => Ok(()),
        }
    }
    walk(v, 0, &mut 0)
}

/// Rewrites every snake_case object key to lowerCamelCase, so request types only
/// need to know the lowerCamelCase spelling (proto3 JSON parsers accept both).
#[must_use]
pub fn camelize_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter().map(|(k, v)| (if k.contains('_') { to_camel(&k) } else { k }, camelize_keys(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camelize_keys).collect()),
        other => other,
    }
}

fn to_camel(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut upper = false;
    for c in k.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Declares a proto enum: the wire names, read by name or by number, written by
/// name.
#[macro_export]
macro_rules! proto_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $num:literal => $wire:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant),*
        }

        impl $name {
            /// The wire name.
            #[must_use]
            pub const fn wire(self) -> &'static str {
                match self { $(Self::$variant => $wire),* }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.wire())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match serde_json::Value::deserialize(d)? {
                    serde_json::Value::String(s) => match s.as_str() {
                        $($wire => Ok(Self::$variant),)*
                        _ => Err(serde::de::Error::custom(concat!("unknown ", stringify!($name), " value"))),
                    },
                    serde_json::Value::Number(n) => match n.as_i64() {
                        $(Some($num) => Ok(Self::$variant),)*
                        _ => Err(serde::de::Error::custom(concat!("unknown ", stringify!($name), " value"))),
                    },
                    serde_json::Value::Null => Ok(Self::default()),
                    _ => Err(serde::de::Error::custom(concat!("expected a ", stringify!($name), " name"))),
                }
            }
        }
    };
}

/// The error for a search filter that sets no filter type, or several.
#[must_use]
pub fn one_filter_error() -> crate::error::ServiceError {
    crate::error::ServiceError::invalid("each filter must set exactly one filter type")
}

/// A search filter message is a proto `oneof`: exactly one member must be set.
///
/// # Errors
/// `invalid_argument` otherwise.
pub fn exactly_one_filter(set: &[bool]) -> Result<(), crate::error::ServiceError> {
    if set.iter().filter(|s| **s).count() == 1 { Ok(()) } else { Err(one_filter_error()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_accept_any_offset_and_naive_and_write_z() {
        let z = parse_ts("2030-01-01T00:00:00Z").unwrap();
        assert_eq!(parse_ts("2030-01-01T00:00:00+00:00").unwrap(), z);
        assert_eq!(parse_ts("2030-01-01T02:00:00+02:00").unwrap(), z);
        assert_eq!(parse_ts("2030-01-01T00:00:00").unwrap(), z);
        assert_eq!(format_ts(&z), "2030-01-01T00:00:00Z");
        let frac = parse_ts("2030-01-01T12:00:00.123456+00:00").unwrap();
        assert_eq!(format_ts(&frac), "2030-01-01T12:00:00.123456Z");
        assert!(parse_ts("tomorrow").is_err());
    }

    #[test]
    fn snake_case_keys_become_camel_case_recursively() {
        let v = serde_json::json!({"user_id": "1", "query": {"sorting_column": 1}, "list": [{"token_id": 2}], "userId2": 3});
        assert_eq!(
            camelize_keys(v),
            serde_json::json!({"userId": "1", "query": {"sortingColumn": 1}, "list": [{"tokenId": 2}], "userId2": 3})
        );
    }

    #[test]
    fn u64_reads_numbers_and_strings() {
        #[derive(Deserialize)]
        struct T {
            #[serde(with = "u64_str")]
            v: u64,
        }
        assert_eq!(serde_json::from_str::<T>(r#"{"v":"12"}"#).unwrap().v, 12);
        assert_eq!(serde_json::from_str::<T>(r#"{"v":12}"#).unwrap().v, 12);
        assert!(serde_json::from_str::<T>(r#"{"v":-1}"#).is_err());
    }

    #[test]
    fn offsets_beyond_the_bound_are_refused() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "offset::deserialize")]
            v: u64,
        }
        assert_eq!(serde_json::from_str::<T>(r#"{"v":"1000000000"}"#).unwrap().v, 1_000_000_000);
        for bad in [r#"{"v":"1000000001"}"#, r#"{"v":"9223372036854775808"}"#, r#"{"v":1e30}"#, r#"{"v":"x"}"#] {
            assert!(serde_json::from_str::<T>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes_are_bounded_in_depth_width_and_size() {
        assert!(check_shape(&serde_json::json!({"a": [1, 2, {"b": "c"}]})).is_ok());
        let mut deep = serde_json::json!(1);
        for _ in 0..=MAX_DEPTH {
            deep = serde_json::json!([deep]);
        }
        assert!(check_shape(&deep).is_err());
        let wide = Value::Array(vec![Value::Null; MAX_ARRAY + 1]);
        assert!(check_shape(&wide).is_err());
        let big = Value::Array(vec![Value::Array(vec![Value::Null; 400]); 5]);
        assert!(check_shape(&big).is_err());
        let fits = Value::Array(vec![Value::Array(vec![Value::Null; 400]); 4]);
        assert!(check_shape(&fits).is_ok());
    }
}
