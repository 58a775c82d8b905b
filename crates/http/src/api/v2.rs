//! What the v2 services share, on the generated messages: `zitadel.object.v2`
//! details and list queries, the `filter.v2` filters and pagination, the rules
//! for required ids and text filters, and the conversion of a v2beta message
//! to its v2 twin.
//!
//! Handlers of every v2 service import this module; it imports none of them.

use tessera_domain::Timestamp;
use tessera_domain::names::Username;
use tessera_domain::repo::{Page, TextFilter, TextMethod, TimeFilter};
use tessera_proto::zitadel::filter::v2 as filter_v2;
use tessera_proto::zitadel::object::v2 as object_v2;

use crate::error::{ApiError, ServiceError};
use tessera_core::Ctx;

/// Parses a required id field, naming the field when it is missing or malformed.
pub fn required_id<T>(
    field: &'static str,
    value: &str,
    parse: fn(&str) -> Result<T, tessera_domain::ValidationError>,
) -> Result<T, ServiceError> {
    if value.trim().is_empty() {
        return Err(ServiceError::invalid(format!("{field} is required")));
    }
    parse(value).map_err(|_| ServiceError::invalid(format!("{field} is not a valid id")))
}

/// An optional username: absent or empty means "use the default".
pub fn opt_username(s: Option<&str>) -> Result<Option<Username>, ServiceError> {
    s.filter(|s| !s.is_empty()).map(Username::parse).transpose().map_err(Into::into)
}

/// A protobuf timestamp field.
#[must_use]
pub fn ts(t: Timestamp) -> Option<tessera_proto::Timestamp> {
    Some(t.into())
}

/// A protobuf timestamp as a domain one, at the microsecond precision
/// Tessera stores; `None` when absent or out of range.
#[must_use]
pub fn from_ts(t: Option<tessera_proto::Timestamp>) -> Option<Timestamp> {
    t.and_then(|t| Timestamp::try_from(t).ok()).map(tessera_domain::time::truncate_to_micros)
}

/// A `filter.v2.PaginationRequest` as a page (absent: the defaults); the
/// offset is bounded by [`Page::MAX_OFFSET`].
///
/// # Errors
/// `invalid_argument` for an offset past the bound.
pub fn pagination(p: Option<&filter_v2::PaginationRequest>) -> Result<Page, ServiceError> {
    let p = p.cloned().unwrap_or_default();
    bounded_page("pagination", p.offset, p.limit, p.asc)
}

/// A requested page ([`Page::requested`]) whose offset is at most
/// [`Page::MAX_OFFSET`]; `field` names the list message in the error. The
/// one rule behind v2's `pagination`, v2's and v1's `query`.
///
/// # Errors
/// `invalid_argument` for an offset past the bound.
pub fn bounded_page(field: &str, offset: u64, limit: u32, asc: bool) -> Result<Page, ServiceError> {
    if offset > Page::MAX_OFFSET {
        return Err(ServiceError::invalid(format!("{field}.offset must be an integer from 0 to 1000000000")));
    }
    Ok(Page::requested(offset, u64::from(limit), asc))
}

/// The `filter.v2.PaginationResponse` of a listed page.
#[must_use]
pub fn pagination_response(total: u64, page: Page) -> Option<filter_v2::PaginationResponse> {
    Some(filter_v2::PaginationResponse { total_result: total, applied_limit: page.limit })
}

/// The comparison of a `TextFilterMethod` or `TextQueryMethod` number (v1's
/// and v2's enums number the same comparisons alike); `None` for another.
#[must_use]
pub fn text_method_of(method: i32) -> Option<TextMethod> {
    use filter_v2::TextFilterMethod as M;
    Some(match M::try_from(method).ok()? {
        M::Equals => TextMethod::Equals,
        M::EqualsIgnoreCase => TextMethod::EqualsIgnoreCase,
        M::StartsWith => TextMethod::StartsWith,
        M::StartsWithIgnoreCase => TextMethod::StartsWithIgnoreCase,
        M::Contains => TextMethod::Contains,
        M::ContainsIgnoreCase => TextMethod::ContainsIgnoreCase,
        M::EndsWith => TextMethod::EndsWith,
        M::EndsWithIgnoreCase => TextMethod::EndsWithIgnoreCase,
    })
}

fn text_of(value: &str, method: i32, field: &str, kind: &str) -> Result<TextFilter, ServiceError> {
    if value.is_empty() || value.chars().count() > 200 {
        return Err(ServiceError::invalid(format!("{field} must be 1 to 200 characters")));
    }
    let method = text_method_of(method)
        .ok_or_else(|| ServiceError::invalid(format!("the method of {field} is not a {kind}")))?;
    Ok(TextFilter { value: value.to_owned(), method })
}

/// A `filter.v2` text filter: `value` of 1 to 200 characters, compared by
/// `method` (a `TextFilterMethod` number).
///
/// # Errors
/// `invalid_argument` naming `field`.
pub fn text_filter_of(value: &str, method: i32, field: &str) -> Result<TextFilter, ServiceError> {
    text_of(value, method, field, "TextFilterMethod")
}

/// An `object.v2` text query: `value` of 1 to 200 characters, compared by
/// `method` (a `TextQueryMethod` number).
///
/// # Errors
/// `invalid_argument` naming `field`.
pub fn text_query_of(value: &str, method: i32, field: &str) -> Result<TextFilter, ServiceError> {
    text_of(value, method, field, "TextQueryMethod")
}

/// An `object.v2.ListQuery` as a page (absent: the defaults); the offset is
/// bounded by [`Page::MAX_OFFSET`].
///
/// # Errors
/// `invalid_argument` for an offset past the bound.
pub fn list_query(q: Option<&object_v2::ListQuery>) -> Result<Page, ServiceError> {
    let q = q.cloned().unwrap_or_default();
    bounded_page("query", q.offset, q.limit, q.asc)
}

/// `object.v2.Details` of something `owner` owns.
#[must_use]
pub fn details_of(created: Timestamp, changed: Timestamp, owner: impl ToString) -> Option<object_v2::Details> {
    Some(object_v2::Details { change_date: ts(changed), resource_owner: owner.to_string(), creation_date: ts(created) })
}

/// `object.v2.ListDetails` of a list of `total` matches read at `now`.
#[must_use]
pub fn list_details_of(total: u64, now: Timestamp) -> Option<object_v2::ListDetails> {
    Some(object_v2::ListDetails { total_result: total, timestamp: ts(now) })
}

/// A `filter.v2.TimestampFilter` as a domain filter.
///
/// # Errors
/// `invalid_argument` naming `field` when the timestamp is missing or out of
/// range, or the method unknown.
pub fn time_filter_of(f: &filter_v2::TimestampFilter, field: &str) -> Result<TimeFilter, ServiceError> {
    use filter_v2::TimestampFilterMethod as M;
    let at = from_ts(f.timestamp)
        .ok_or_else(|| ServiceError::invalid(format!("{field} needs an RFC 3339 timestamp and a method")))?;
    Ok(match M::try_from(f.method) {
        Ok(M::Equals) => TimeFilter::Equals(at),
        Ok(M::After) => TimeFilter::After(at),
        Ok(M::AfterOrEquals) => TimeFilter::AtOrAfter(at),
        Ok(M::Before) => TimeFilter::Before(at),
        Ok(M::BeforeOrEquals) => TimeFilter::AtOrBefore(at),
        Err(_) => return Err(ServiceError::invalid(format!("the method of {field} is not a TimestampFilterMethod"))),
    })
}

/// Converts a message to another with the same field numbers and types (a
/// v2beta message and its v2 twin) through the binary encoding, which is all
/// that identifies a field on the wire. A field only `A` declares is dropped,
/// so callers check those first. Each pair converted this way has a
/// round-trip test next to its service.
///
/// # Errors
/// `internal` if the two messages disagree on a field's type after all.
pub fn recode<A: prost::Message, B: prost::Message + Default>(message: &A) -> Result<B, ApiError> {
    B::decode(message.encode_to_vec().as_slice()).map_err(|e| {
        crate::error::log_internal(&e);
        ApiError::new(crate::error::ConnectCode::Internal, "internal error")
    })
}

/// Runs a v2 `handler` for a v2beta request whose messages are the v2 ones
/// under other names ([`recode`] both ways).
///
/// # Errors
/// The handler's.
pub async fn as_v2<BetaReq, Req, Res, BetaRes, Fut>(
    ctx: Ctx,
    req: BetaReq,
    handler: impl FnOnce(Ctx, Req) -> Fut,
) -> Result<BetaRes, ApiError>
where
    BetaReq: prost::Message,
    Req: prost::Message + Default,
    Res: prost::Message,
    BetaRes: prost::Message + Default,
    Fut: std::future::Future<Output = Result<Res, ApiError>>,
{
    recode(&handler(ctx, recode(&req)?).await?)
}

/// Runs the v2 `handler` for a v2beta call whose request `$req` and response
/// `$res` are v2's under other names ([`as_v2`]).
macro_rules! run_as_v2 {
    ($call:expr, $req:ty, $res:ty, $handler:path) => {
        $call.run(|c, r: $req| $crate::api::v2::as_v2::<_, _, _, $res, _>(c, r, $handler)).await
    };
}
pub(crate) use run_as_v2;

/// Checks that `A` and `B` agree on every field `json` sets: decoded as `A`,
/// converted to `B` and back by [`recode`], nothing is lost or changed, and
/// both encode to the same bytes. The test of each v2beta/v2 pair converted
/// by its encoding.
///
/// # Panics
/// When they do not agree.
#[cfg(test)]
pub fn assert_twins<A, B>(json: serde_json::Value)
where
    A: prost::Message + Default + PartialEq + std::fmt::Debug + serde::de::DeserializeOwned,
    B: prost::Message + Default,
{
    let a: A = serde_json::from_value(json).expect("a valid message");
    let b: B = recode(&a).expect("converts");
    assert_eq!(recode::<B, A>(&b).expect("converts back"), a);
    assert_eq!(b.encode_to_vec(), a.encode_to_vec(), "same bytes, so same fields");
}
