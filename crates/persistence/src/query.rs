//! Translation of the domain's list filters into SQL conditions that behave the
//! same on SQLite and PostgreSQL.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition};
use tessera_domain::permission::OrgFilter;
use tessera_domain::repo::{Page, TextFilter, TextMethod, TimeFilter, Visibility};
use uuid::Uuid;

/// Escapes LIKE wildcards in user input (`\` is the escape character).
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A text filter on `col`. Case-insensitive methods compare lower-cased text,
/// using `lower_col` (a stored lower-case copy, indexable) when there is one.
pub(crate) fn text<C: ColumnTrait>(col: C, lower_col: Option<C>, f: &TextFilter) -> Condition {
    use TextMethod as M;
    let ignore_case = matches!(
        f.method,
        M::EqualsIgnoreCase | M::StartsWithIgnoreCase | M::ContainsIgnoreCase | M::EndsWithIgnoreCase
    );
    let (lhs, value) = if ignore_case {
        let lhs = match lower_col {
            Some(l) => Expr::col(l.as_column_ref()),
            None => Func::lower(Expr::col(col.as_column_ref())).into(),
        };
        (lhs, f.value.to_lowercase())
    } else {
        (Expr::col(col.as_column_ref()), f.value.clone())
    };
    let like = |pattern: String| LikeExpr::new(pattern).escape('\\');
    let expr = match f.method {
        M::Equals | M::EqualsIgnoreCase => lhs.eq(value),
        M::StartsWith | M::StartsWithIgnoreCase => lhs.like(like(format!("{}%", escape_like(&value)))),
        M::Contains | M::ContainsIgnoreCase => lhs.like(like(format!("%{}%", escape_like(&value)))),
        M::EndsWith | M::EndsWithIgnoreCase => lhs.like(like(format!("%{}", escape_like(&value)))),
    };
    Condition::all().add(expr)
}

/// A time filter on `col`.
pub(crate) fn time<C: ColumnTrait>(col: C, f: &TimeFilter) -> Condition {
    match f {
        TimeFilter::Equals(t) => Condition::all().add(col.eq(*t)),
        TimeFilter::Before(t) => Condition::all().add(col.lt(*t)),
        TimeFilter::AtOrBefore(t) => Condition::all().add(col.lte(*t)),
        TimeFilter::After(t) => Condition::all().add(col.gt(*t)),
        TimeFilter::AtOrAfter(t) => Condition::all().add(col.gte(*t)),
    }
}

/// A condition that never holds.
pub(crate) fn never() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

/// Row visibility: `org_col` in the permitted organizations, or `user_col` equal
/// to the caller's own id.
pub(crate) fn visibility<C: ColumnTrait>(org_col: C, user_col: C, v: &Visibility) -> Condition {
    match &v.orgs {
        OrgFilter::All => Condition::all(),
        OrgFilter::Only(orgs) => {
            let mut any = Condition::any();
            if !orgs.is_empty() {
                any = any.add(org_col.is_in(orgs.iter().map(|o| *o.as_uuid()).collect::<Vec<Uuid>>()));
            }
            if let Some(user) = v.own_user {
                any = any.add(user_col.eq(*user.as_uuid()));
            }
            if orgs.is_empty() && v.own_user.is_none() { never() } else { any }
        }
    }
}

/// Clamps a page to the allowed window. The API refuses offsets beyond
/// [`Page::MAX_OFFSET`] before it gets here; the clamp keeps any other caller
/// from handing SQL an integer it cannot bind.
pub(crate) fn window(page: &Page) -> (u64, u64) {
    let limit = if page.limit == 0 { Page::DEFAULT_LIMIT } else { Ord::min(page.limit, Page::MAX_LIMIT) };
    (Ord::min(page.offset, Page::MAX_OFFSET), limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_input_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn window_applies_default_and_maximum() {
        assert_eq!(window(&Page { offset: 3, limit: 0, asc: true }), (3, Page::DEFAULT_LIMIT));
        assert_eq!(window(&Page { offset: 0, limit: 5000, asc: true }), (0, Page::MAX_LIMIT));
        assert_eq!(window(&Page { offset: u64::MAX, limit: 1, asc: true }), (Page::MAX_OFFSET, 1));
    }
}
