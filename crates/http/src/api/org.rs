//! `zitadel.org.v2.OrganizationService`: organizations, on the generated
//! messages of `proto/zitadel/org/v2`.
//!
//! Tessera's differences: organization ids are UUIDs (a custom
//! `organizationId` must be one); there are no organization domains, so
//! `primaryDomain` is never sent and a `domainQuery` matches the name.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::names::OrgName;
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::permission::Role;
use tessera_domain::repo::{OrgQueryFilter, OrgSort};
use tessera_domain::{OrgId, UserId};
use tessera_proto::zitadel::org::v2 as pb;

use super::call::{Answer, Call, RestCall};
use super::human::{HumanParts, unwrap_sdk_password};
use super::v2::{details_of, list_details_of, list_query, opt_username, required_id, text_query_of, ts};
use crate::error::{ApiError, ConnectCode, ServiceError};
use tessera_core::Ctx;
use tessera_core::orgs::{self, AdminUser, NewOrg, NewOrgAdmin, OrgStateChange};

use pb::add_organization_request::Admin;
use pb::add_organization_request::admin::UserType;

/// The wire form of an organization (the resource owner of its details is
/// the organization itself).
fn organization(o: &Organization) -> pb::Organization {
    let state = match o.state {
        OrgState::Active => pb::OrganizationState::Active,
        OrgState::Inactive => pb::OrganizationState::Inactive,
    };
    pb::Organization {
        id: o.id.to_string(),
        details: details_of(o.created_at, o.updated_at, o.id),
        state: state.into(),
        name: o.name.to_string(),
    }
}

// ----------------------------------------------------------------------------
// AddOrganization

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

/// One of `admins`: an existing user, or an `AddHumanUserRequest` (always
/// created in the new organization; its `organization` is reserved in
/// `proto/`). What Tessera cannot store is refused rather than dropped.
fn admin_input(i: usize, a: &Admin) -> Result<NewOrgAdmin, ServiceError> {
    let roles = a
        .roles
        .iter()
        .enumerate()
        .map(|(j, r)| {
            Role::parse(r).map_err(|_| ServiceError::invalid(format!("admins[{i}].roles[{j}] is not a supported role")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let user = match &a.user_type {
        Some(UserType::UserId(id)) if non_empty(Some(id)).is_some() => {
            AdminUser::Existing(required_id("admins[].userId", id, UserId::parse)?)
        }
        Some(UserType::Human(h)) => {
            use tessera_proto::zitadel::user::v2::add_human_user_request::PasswordType;
            for (present, field) in [
                (matches!(h.password_type, Some(PasswordType::HashedPassword(_))), "hashedPassword"),
                (!h.idp_links.is_empty(), "idpLinks"),
                (h.totp_secret.is_some(), "totpSecret"),
                (!h.metadata.is_empty(), "metadata"),
            ] {
                if present {
                    return Err(ServiceError::invalid(format!(
                        "admins[{i}].human.{field} is not supported by Tessera"
                    )));
                }
            }
            let user_id = non_empty(h.user_id.as_deref())
                .map(|s| required_id("admins[].human.userId", s, UserId::parse))
                .transpose()?;
            let username = opt_username(h.username.as_deref())?;
            let password = match &h.password_type {
                Some(PasswordType::Password(p)) => Some(p),
                _ => None,
            };
            let parts = HumanParts { profile: h.profile.as_ref(), email: h.email.as_ref(), password };
            AdminUser::Human(Box::new(parts.into_new_human(None, user_id, username)?))
        }
        _ => return Err(ServiceError::invalid(format!("admins[{i}] must set exactly one of userId or human"))),
    };
    Ok(NewOrgAdmin { user, roles })
}

async fn add_organization(ctx: Ctx, req: pb::AddOrganizationRequest) -> Result<pb::AddOrganizationResponse, ApiError> {
    let name = OrgName::parse(&req.name)?;
    #[allow(deprecated, reason = "ZITADEL's deprecated alias of organizationId is still read")]
    let legacy_id = req.org_id.as_deref();
    let id = match non_empty(req.organization_id.as_deref()).or_else(|| non_empty(legacy_id)) {
        Some(id) => Some(
            OrgId::parse(id)
                .map_err(|_| ServiceError::invalid("organizationId must be a UUID in Tessera (or be left out)"))?,
        ),
        None => None,
    };
    let admins = req.admins.iter().enumerate().map(|(i, a)| admin_input(i, a)).collect::<Result<_, _>>()?;
    let created = orgs::add(&ctx, NewOrg { id, name, admins }).await?;
    Ok(pb::AddOrganizationResponse {
        details: details_of(created.org.created_at, created.org.updated_at, created.org.id),
        organization_id: created.org.id.to_string(),
        created_admins: created
            .created_users
            .iter()
            .map(|u| pb::add_organization_response::CreatedAdmin { user_id: u.to_string() })
            .collect(),
    })
}

/// The call with the Python SDK's password wrapping undone in every human
/// administrator ([`unwrap_sdk_password`]).
fn sdk_shapes_undone(call: &Call) -> Option<Call> {
    let mut body = call.json()?;
    for admin in body.get_mut("admins")?.as_array_mut()? {
        if let Some(human) = admin.get_mut("human") {
            unwrap_sdk_password(human);
        }
    }
    Some(call.with_json(&body))
}

// ----------------------------------------------------------------------------
// ListOrganizations

/// A filter no organization passes.
fn no_org() -> OrgQueryFilter {
    OrgQueryFilter::Ids(Vec::new())
}

/// Converts one `zitadel.org.v2.SearchQuery` into a filter.
async fn org_query(ctx: &Ctx, q: &pb::SearchQuery) -> Result<OrgQueryFilter, ServiceError> {
    use pb::search_query::Query;
    Ok(match &q.query {
        None => return Err(ServiceError::invalid("each query must set exactly one query type Tessera knows")),
        Some(Query::NameQuery(n)) => OrgQueryFilter::Name(text_query_of(&n.name, n.method, "nameQuery.name")?),
        // Tessera has no organization domains; a domain query matches the name.
        Some(Query::DomainQuery(d)) => OrgQueryFilter::Name(text_query_of(&d.domain, d.method, "domainQuery.domain")?),
        Some(Query::StateQuery(s)) => match pb::OrganizationState::try_from(s.state) {
            Ok(pb::OrganizationState::Active) => OrgQueryFilter::State(OrgState::Active),
            Ok(pb::OrganizationState::Inactive) => OrgQueryFilter::State(OrgState::Inactive),
            // Removed organizations are gone in Tessera.
            Ok(pb::OrganizationState::Removed | pb::OrganizationState::Unspecified) => no_org(),
            Err(_) => return Err(ServiceError::invalid("stateQuery.state is not an OrganizationState")),
        },
        Some(Query::IdQuery(q)) => {
            if q.id.is_empty() || q.id.chars().count() > 200 {
                return Err(ServiceError::invalid("idQuery.id must be 1 to 200 characters"));
            }
            // An id that is not a UUID cannot exist here; it matches nothing.
            OrgId::parse(&q.id).map_or_else(|_| no_org(), |o| OrgQueryFilter::Ids(vec![o]))
        }
        Some(Query::DefaultQuery(_)) => OrgQueryFilter::Ids(vec![orgs::default_org_id(ctx).await?]),
    })
}

async fn list_organizations(
    ctx: Ctx,
    req: pb::ListOrganizationsRequest,
) -> Result<pb::ListOrganizationsResponse, ApiError> {
    use pb::OrganizationFieldName as F;
    let mut filters = Vec::with_capacity(req.queries.len());
    for q in &req.queries {
        filters.push(org_query(&ctx, q).await?);
    }
    let sort = match F::try_from(req.sorting_column) {
        Ok(F::Unspecified | F::CreationDate) => OrgSort::CreatedAt,
        Ok(F::Name) => OrgSort::Name,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not an OrganizationFieldName").into()),
    };
    let listed = orgs::list(&ctx, filters, sort, list_query(req.query.as_ref())?).await?;
    Ok(pb::ListOrganizationsResponse {
        details: list_details_of(listed.total, ctx.now()),
        sorting_column: req.sorting_column,
        result: listed.items.iter().map(organization).collect(),
    })
}

// ----------------------------------------------------------------------------
// Update, state changes, delete

fn org_id(id: &str) -> Result<OrgId, ServiceError> {
    required_id("organizationId", id, OrgId::parse)
}

async fn update_organization(
    ctx: Ctx,
    req: pb::UpdateOrganizationRequest,
) -> Result<pb::UpdateOrganizationResponse, ApiError> {
    let id = org_id(&req.organization_id)?;
    let name = OrgName::parse(&req.name)?;
    let org = orgs::rename(&ctx, id, name).await?;
    Ok(pb::UpdateOrganizationResponse { change_date: ts(org.updated_at) })
}

async fn deactivate_organization(
    ctx: Ctx,
    req: pb::DeactivateOrganizationRequest,
) -> Result<pb::DeactivateOrganizationResponse, ApiError> {
    let org = orgs::change_state(&ctx, org_id(&req.organization_id)?, OrgStateChange::Deactivate).await?;
    Ok(pb::DeactivateOrganizationResponse { change_date: ts(org.updated_at) })
}

async fn activate_organization(
    ctx: Ctx,
    req: pb::ActivateOrganizationRequest,
) -> Result<pb::ActivateOrganizationResponse, ApiError> {
    let org = orgs::change_state(&ctx, org_id(&req.organization_id)?, OrgStateChange::Activate).await?;
    Ok(pb::ActivateOrganizationResponse { change_date: ts(org.updated_at) })
}

async fn delete_organization(
    ctx: Ctx,
    req: pb::DeleteOrganizationRequest,
) -> Result<pb::DeleteOrganizationResponse, ApiError> {
    orgs::delete(&ctx, org_id(&req.organization_id)?).await?;
    Ok(pb::DeleteOrganizationResponse { deletion_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "AddOrganization" => sdk_shapes_undone(call).as_ref().unwrap_or(call).run(add_organization).await,
        "ListOrganizations" => call.run(list_organizations).await,
        "UpdateOrganization" => call.run(update_organization).await,
        "DeactivateOrganization" => call.run(deactivate_organization).await,
        "ActivateOrganization" => call.run(activate_organization).await,
        "DeleteOrganization" => call.run(delete_organization).await,
        _ => return None,
    })
}

/// Mounts ZITADEL's REST paths for the methods above (`_search` before the
/// `{organizationId}` pattern that would also match it).
pub fn rest_routes(cfg: &mut web::ServiceConfig) {
    async fn rest(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
        let method = req.method().clone();
        let pattern = req.match_pattern().unwrap_or_default();
        let mut params = vec![];
        if let Some(id) = req.match_info().get("organizationId") {
            params.push(("organizationId", id.to_owned()));
        }
        let call = RestCall::new(req, payload, &params).await?;
        match (method.as_str(), pattern.as_str()) {
            ("POST", "/v2/organizations") => {
                // ZITADEL's REST mapping answers 201 here; Connect always 200.
                let call = sdk_shapes_undone(call.call()).map_or(call, RestCall::from);
                let mut res = call.run(add_organization).await?;
                *res.status_mut() = StatusCode::CREATED;
                Ok(res)
            }
            ("POST", "/v2/organizations/_search") => call.run(list_organizations).await,
            ("POST", "/v2/organizations/{organizationId}") => call.run(update_organization).await,
            ("DELETE", "/v2/organizations/{organizationId}") => call.run(delete_organization).await,
            ("POST", "/v2/organizations/{organizationId}/deactivate") => call.run(deactivate_organization).await,
            ("POST", "/v2/organizations/{organizationId}/activate") => call.run(activate_organization).await,
            _ => Err(ApiError::new(ConnectCode::Unimplemented, "unknown route")),
        }
    }
    cfg.route("/v2/organizations", web::post().to(rest))
        .route("/v2/organizations/_search", web::post().to(rest))
        .route("/v2/organizations/{organizationId}", web::post().to(rest))
        .route("/v2/organizations/{organizationId}", web::delete().to(rest))
        .route("/v2/organizations/{organizationId}/deactivate", web::post().to(rest))
        .route("/v2/organizations/{organizationId}/activate", web::post().to(rest));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use serde_json::Value;

    fn admin(v: Value) -> Admin {
        crate::api::call::decode_value(v).unwrap()
    }

    #[test]
    fn admins_need_exactly_one_kind_of_user() {
        assert!(admin_input(0, &admin(json!({}))).is_err());
        assert!(crate::api::call::decode_value::<Admin>(json!({"userId": UserId::new(), "human": {}})).is_err());
        let existing = admin(json!({"userId": UserId::new()}));
        assert!(matches!(admin_input(0, &existing).unwrap().user, AdminUser::Existing(_)));
    }

    #[test]
    fn unknown_roles_are_refused_by_name() {
        let input = admin(json!({"userId": UserId::new(), "roles": ["ORG_GOD"]}));
        let err = admin_input(2, &input).unwrap_err();
        assert_eq!(err.to_string(), "admins[2].roles[0] is not a supported role");
    }
}
