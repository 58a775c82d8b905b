//! Bounds on the shape of a binary request, checked on its bytes before it
//! decodes: the same bounds as a JSON request's (`crates/http/src/api/wire.rs`),
//! so that a filter tree sent as protobuf can build no SQL statement a
//! database refuses and no recursion without bound.
//!
//! The walk follows the wire format (<https://protobuf.dev/programming-guides/encoding/>)
//! with the message's [`Shape`], generated from `proto/` at build time: it
//! counts every field, every element of a packed list and every message, and
//! enters a length-delimited field only when the proto says it holds a
//! message. A depth is counted as JSON counts it: a message field one level
//! deeper, an element of a repeated message field two (the array and the
//! object).

/// How deeply a request may nest, counted as in JSON (see the module).
pub const MAX_DEPTH: usize = 32;

/// How many values (fields, list elements, messages) a request may hold.
pub const MAX_VALUES: usize = 2000;

/// How many entries one repeated field of one message may hold.
pub const MAX_ARRAY: usize = 500;

/// One message's fields, ordered by number.
#[derive(Debug)]
pub struct Shape {
    /// The fields the proto declares.
    pub fields: &'static [Field],
}

/// One field of a [`Shape`].
#[derive(Debug)]
pub struct Field {
    /// The field number.
    pub number: u32,
    /// How its values are encoded.
    pub kind: Kind,
    /// Whether it is a list (or a map).
    pub repeated: bool,
}

/// How a field's values are encoded.
#[derive(Debug)]
pub enum Kind {
    /// Integers, booleans and enums (packed in a list).
    Varint,
    /// `fixed32`, `sfixed32`, `float`.
    Fixed32,
    /// `fixed64`, `sfixed64`, `double`.
    Fixed64,
    /// Strings and bytes.
    Bytes,
    /// A message of this shape.
    Message(&'static Shape),
}

/// Why a request was refused. The text names the bound, never a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeError {
    /// More than [`MAX_VALUES`].
    TooMany,
    /// Deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A list longer than [`MAX_ARRAY`].
    TooLong,
    /// Not the wire format of a message.
    Malformed,
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooMany => "request holds more than 2000 values",
            Self::TooDeep => "request is nested more than 32 levels deep",
            Self::TooLong => "request has a list of more than 500 entries",
            Self::Malformed => "the request is not a valid protobuf message",
        })
    }
}

impl std::error::Error for ShapeError {}

impl Shape {
    /// Checks `message`, a binary message of this shape, against the bounds.
    ///
    /// # Errors
    /// The first bound it exceeds, or [`ShapeError::Malformed`].
    pub fn check(&self, message: &[u8]) -> Result<(), ShapeError> {
        let mut count = 1;
        self.walk(message, 0, &mut count)
    }

    fn walk(&self, mut bytes: &[u8], depth: usize, count: &mut usize) -> Result<(), ShapeError> {
        if depth > MAX_DEPTH {
            return Err(ShapeError::TooDeep);
        }
        // (field number, entries so far) of the repeated fields seen.
        let mut lists: Vec<(u32, usize)> = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes)?;
            let number = u32::try_from(key >> 3).map_err(|_| ShapeError::Malformed)?;
            let field = self.fields.binary_search_by_key(&number, |f| f.number).ok().map(|i| &self.fields[i]);
            let mut entries = 1;
            match key & 7 {
                0 => {
                    varint(&mut bytes)?;
                }
                1 => {
                    take(&mut bytes, 8)?;
                }
                5 => {
                    take(&mut bytes, 4)?;
                }
                2 => {
                    let len = usize::try_from(varint(&mut bytes)?).map_err(|_| ShapeError::Malformed)?;
                    let data = take(&mut bytes, len)?;
                    match field.map(|f| (&f.kind, f.repeated)) {
                        Some((Kind::Message(shape), repeated)) => {
                            *count += 1;
                            shape.walk(data, depth + if repeated { 2 } else { 1 }, count)?;
                            entries = 0;
                        }
                        // A packed list: one value per element.
                        Some((Kind::Varint, true)) => entries = data.iter().filter(|b| *b & 0x80 == 0).count(),
                        Some((Kind::Fixed32, true)) => entries = data.len() / 4,
                        Some((Kind::Fixed64, true)) => entries = data.len() / 8,
                        _ => {}
                    }
                }
                // Groups (deprecated) and invalid wire types: no ZITADEL
                // message has them.
                _ => return Err(ShapeError::Malformed),
            }
            // The message itself was counted on entry.
            *count += entries;
            if *count > MAX_VALUES {
                return Err(ShapeError::TooMany);
            }
            if let Some(f) = field.filter(|f| f.repeated) {
                let seen = match lists.iter_mut().find(|(n, _)| *n == f.number) {
                    Some((_, seen)) => seen,
                    None => {
                        lists.push((f.number, 0));
                        &mut lists.last_mut().ok_or(ShapeError::Malformed)?.1
                    }
                };
                *seen += entries.max(1);
                if *seen > MAX_ARRAY {
                    return Err(ShapeError::TooLong);
                }
            }
        }
        Ok(())
    }
}

/// Reads one base-128 varint.
fn varint(bytes: &mut &[u8]) -> Result<u64, ShapeError> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Ok(value);
        }
    }
    Err(ShapeError::Malformed)
}

/// Takes `n` bytes.
fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], ShapeError> {
    if bytes.len() < n {
        return Err(ShapeError::Malformed);
    }
    let (head, tail) = bytes.split_at(n);
    *bytes = tail;
    Ok(head)
}

/// The shape of every message in `proto/`, one static per message, named by
/// its full name (`ZITADEL_USER_V2_LISTUSERSREQUEST`).
#[allow(missing_docs, reason = "generated: one static per message of proto/")]
pub mod shapes {
    use super::{Field, Kind, Shape};
    include!(concat!(env!("OUT_DIR"), "/shapes.rs"));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use prost::Message as _;

    use super::*;
    use crate::zitadel::user::v2 as user;

    fn name_query() -> user::SearchQuery {
        user::SearchQuery {
            query: Some(user::search_query::Query::UserNameQuery(user::UserNameQuery {
                user_name: "ci".into(),
                method: 0,
            })),
        }
    }

    fn or_of(queries: Vec<user::SearchQuery>) -> user::SearchQuery {
        user::SearchQuery { query: Some(user::search_query::Query::OrQuery(user::OrQuery { queries })) }
    }

    fn check(queries: Vec<user::SearchQuery>) -> Result<(), ShapeError> {
        let req = user::ListUsersRequest { queries, ..Default::default() };
        shapes::ZITADEL_USER_V2_LISTUSERSREQUEST.check(&req.encode_to_vec())
    }

    #[test]
    fn ordinary_requests_fit() {
        assert_eq!(check(vec![name_query(); 3]), Ok(()));
        assert_eq!(check(vec![or_of(vec![name_query(); 400])]), Ok(()));
        assert_eq!(shapes::ZITADEL_USER_V2_LISTUSERSREQUEST.check(&[]), Ok(()));
    }

    /// The bounds of a JSON body hold for the same message in binary.
    #[test]
    fn long_lists_many_values_and_deep_trees_are_refused() {
        assert_eq!(check(vec![name_query(); MAX_ARRAY + 1]), Err(ShapeError::TooLong));
        assert_eq!(check(vec![or_of(vec![name_query(); 400]); 3]), Err(ShapeError::TooMany));
        let mut deep = name_query();
        for _ in 0..MAX_DEPTH {
            deep = user::SearchQuery {
                query: Some(user::search_query::Query::NotQuery(Box::new(user::NotQuery {
                    query: Some(Box::new(deep)),
                }))),
            };
        }
        assert_eq!(check(vec![deep]), Err(ShapeError::TooDeep));
    }

    #[test]
    fn packed_lists_count_their_elements() {
        // `repeated string` is never packed; a packed enum list is: the
        // states of a v2 organization filter are not repeated, so build the
        // bytes by hand on a shape with a repeated enum.
        static PACKED: Shape = Shape { fields: &[Field { number: 1, kind: Kind::Varint, repeated: true }] };
        let mut bytes = vec![0x0a];
        let elements = vec![1u8; MAX_ARRAY + 1];
        prost::encoding::encode_varint(elements.len() as u64, &mut bytes);
        bytes.extend(&elements);
        assert_eq!(PACKED.check(&bytes), Err(ShapeError::TooLong));
        assert_eq!(PACKED.check(&[0x0a, 2, 1, 1]), Ok(()));
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let shape = &shapes::ZITADEL_USER_V2_LISTUSERSREQUEST;
        assert_eq!(shape.check(&[0x1a, 0xff, 0xff]), Err(ShapeError::Malformed));
        assert_eq!(shape.check(&[0x1a, 5, 1]), Err(ShapeError::Malformed));
        // A group start tag.
        assert_eq!(shape.check(&[0x0b]), Err(ShapeError::Malformed));
        assert_eq!(shape.check(&[0xff; 11]), Err(ShapeError::Malformed));
    }
}
