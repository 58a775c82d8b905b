//! What every request body goes through before its generated message decodes
//! it (DESIGN.md §3): bounds on its shape, snake_case field names accepted
//! beside lowerCamelCase, and the names an error may quote. The proto3 JSON
//! mapping itself is the generated messages' (`tessera_proto`).

use serde_json::Value;

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

/// The error for a search filter that sets no filter type, or several.
#[must_use]
pub fn one_filter_error() -> crate::error::ServiceError {
    crate::error::ServiceError::invalid("each filter must set exactly one filter type")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keys_become_camel_case_recursively() {
        let v = serde_json::json!({"user_id": "1", "query": {"sorting_column": 1}, "list": [{"token_id": 2}], "userId2": 3});
        assert_eq!(
            camelize_keys(v),
            serde_json::json!({"userId": "1", "query": {"sortingColumn": 1}, "list": [{"tokenId": 2}], "userId2": 3})
        );
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
