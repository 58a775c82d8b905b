//! `zitadel.org.v2.OrganizationService`: organizations, in the request and
//! response shapes of ZITADEL's `org/v2/org_service.proto`.
//!
//! Tessera's differences: organization ids are UUIDs (a custom
//! `organizationId` must be one); there are no organization domains, so
//! `primaryDomain` is never sent and a `domainQuery` matches the name.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::names::OrgName;
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::permission::Role;
use tessera_domain::repo::{OrgQueryFilter, OrgSort};
use tessera_domain::{OrgId, Timestamp, UserId};

use super::call::{Call, RestCall};
use super::user::HumanInput;
use super::v2::{Details, ListDetails, ListQuery, opt_username, required_id, text_leaf, wire_from};
use super::wire;
use crate::error::{ApiError, ConnectCode, ServiceError};
use crate::proto_enum;
use tessera_core::Ctx;
use tessera_core::orgs::{self, AdminUser, NewOrg, NewOrgAdmin, OrgStateChange};

proto_enum!(
    /// `zitadel.org.v2.OrganizationState`.
    WireOrgState {
        #[default]
        Unspecified = 0 => "ORGANIZATION_STATE_UNSPECIFIED",
        Active = 1 => "ORGANIZATION_STATE_ACTIVE",
        Inactive = 2 => "ORGANIZATION_STATE_INACTIVE",
        Removed = 3 => "ORGANIZATION_STATE_REMOVED",
    }
);

impl From<OrgState> for WireOrgState {
    fn from(s: OrgState) -> Self {
        match s {
            OrgState::Active => Self::Active,
            OrgState::Inactive => Self::Inactive,
        }
    }
}

proto_enum!(
    /// `zitadel.org.v2.OrganizationFieldName`.
    OrgFieldName {
        #[default]
        Unspecified = 0 => "ORGANIZATION_FIELD_NAME_UNSPECIFIED",
        Name = 1 => "ORGANIZATION_FIELD_NAME_NAME",
        CreationDate = 2 => "ORGANIZATION_FIELD_NAME_CREATION_DATE",
    }
);

/// `zitadel.org.v2.Organization`. Tessera has no domains, so `primaryDomain` is
/// left out (proto3 JSON omits empty strings).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrganization {
    /// Id.
    pub id: String,
    /// Details (the resource owner is the organization itself).
    pub details: Details,
    /// State.
    pub state: WireOrgState,
    /// Name.
    pub name: String,
}

impl WireOrganization {
    /// The wire form of an organization.
    #[must_use]
    pub fn from_domain(o: &Organization) -> Self {
        Self {
            id: o.id.to_string(),
            details: org_details(o, o.updated_at),
            state: o.state.into(),
            name: o.name.to_string(),
        }
    }
}

fn org_details(o: &Organization, change_date: Timestamp) -> Details {
    Details { change_date, creation_date: o.created_at, resource_owner: o.id.to_string() }
}

// ----------------------------------------------------------------------------
// AddOrganization

/// `AddHumanUserRequest` as an administrator of a new organization. The user is
/// always created in the new organization; `organization` is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HumanAdminInput {
    /// Caller-chosen id (a UUID in Tessera).
    pub user_id: Option<String>,
    /// Login name; the e-mail address when absent.
    pub username: Option<String>,
    /// Profile, e-mail and password, as in `CreateUser`'s `human`.
    #[serde(flatten)]
    pub human: HumanInput,
    /// Not supported by Tessera (refused rather than dropped).
    pub hashed_password: Option<Value>,
    /// Not supported by Tessera (refused rather than dropped).
    pub idp_links: Option<Value>,
    /// Not supported by Tessera (refused rather than dropped).
    pub totp_secret: Option<Value>,
    /// Not supported by Tessera (refused rather than dropped).
    pub metadata: Option<Value>,
}

/// `AddOrganizationRequest.Admin`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AdminInput {
    /// An existing user.
    pub user_id: Option<String>,
    /// A human user to create.
    pub human: Option<HumanAdminInput>,
    /// Organization roles; empty means `ORG_OWNER`.
    pub roles: Vec<String>,
}

/// `AddOrganizationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AddOrganizationRequest {
    /// Unique name.
    pub name: String,
    /// First administrators.
    pub admins: Vec<AdminInput>,
    /// Caller-chosen id (a UUID in Tessera); wins over `orgId`.
    pub organization_id: Option<String>,
    /// Deprecated alias of `organizationId`.
    pub org_id: Option<String>,
}

/// `AddOrganizationResponse.CreatedAdmin` (Tessera sends no codes).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAdmin {
    /// The created user.
    pub user_id: String,
}

/// `AddOrganizationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddOrganizationResponse {
    /// Details.
    pub details: Details,
    /// The new organization's id.
    pub organization_id: String,
    /// The human administrators created with it.
    pub created_admins: Vec<CreatedAdmin>,
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.trim().is_empty())
}

fn admin_input(i: usize, a: AdminInput) -> Result<NewOrgAdmin, ServiceError> {
    let roles = a
        .roles
        .iter()
        .enumerate()
        .map(|(j, r)| {
            Role::parse(r).map_err(|_| ServiceError::invalid(format!("admins[{i}].roles[{j}] is not a supported role")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let user = match (non_empty(a.user_id.as_deref()), a.human) {
        (Some(id), None) => AdminUser::Existing(required_id("admins[].userId", id, UserId::parse)?),
        (None, Some(h)) => {
            for (present, field) in [
                (h.hashed_password.is_some(), "hashedPassword"),
                (h.idp_links.is_some(), "idpLinks"),
                (h.totp_secret.is_some(), "totpSecret"),
                (h.metadata.is_some(), "metadata"),
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
            AdminUser::Human(Box::new(h.human.into_new_human(None, user_id, username)?))
        }
        _ => return Err(ServiceError::invalid(format!("admins[{i}] must set exactly one of userId or human"))),
    };
    Ok(NewOrgAdmin { user, roles })
}

async fn add_organization(ctx: Ctx, req: AddOrganizationRequest) -> Result<AddOrganizationResponse, ApiError> {
    let name = OrgName::parse(&req.name)?;
    let id = match non_empty(req.organization_id.as_deref()).or_else(|| non_empty(req.org_id.as_deref())) {
        Some(id) => Some(
            OrgId::parse(id)
                .map_err(|_| ServiceError::invalid("organizationId must be a UUID in Tessera (or be left out)"))?,
        ),
        None => None,
    };
    let admins = req.admins.into_iter().enumerate().map(|(i, a)| admin_input(i, a)).collect::<Result<_, _>>()?;
    let created = orgs::add(&ctx, NewOrg { id, name, admins }).await?;
    Ok(AddOrganizationResponse {
        details: org_details(&created.org, created.org.updated_at),
        organization_id: created.org.id.to_string(),
        created_admins: created.created_users.iter().map(|u| CreatedAdmin { user_id: u.to_string() }).collect(),
    })
}

// ----------------------------------------------------------------------------
// ListOrganizations

/// `ListOrganizationsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListOrganizationsRequest {
    /// Paging.
    pub query: ListQuery,
    /// Order.
    pub sorting_column: OrgFieldName,
    /// Filters (all must match).
    pub queries: Vec<Value>,
}

/// `ListOrganizationsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOrganizationsResponse {
    /// Totals.
    pub details: ListDetails,
    /// The order used.
    pub sorting_column: OrgFieldName,
    /// The organizations.
    pub result: Vec<WireOrganization>,
}

/// A filter no organization passes.
fn no_org() -> OrgQueryFilter {
    OrgQueryFilter::Ids(Vec::new())
}

/// Converts one `zitadel.org.v2.SearchQuery` (a one-key object) into a filter.
async fn org_query(ctx: &Ctx, q: &Value) -> Result<OrgQueryFilter, ServiceError> {
    let obj = q
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| ServiceError::invalid("each query must be an object with exactly one query type"))?;
    let Some((kind, inner)) = obj.iter().next() else { return Err(ServiceError::invalid("empty query")) };
    Ok(match kind.as_str() {
        "nameQuery" => OrgQueryFilter::Name(text_leaf(inner, "name", kind)?),
        // Tessera has no organization domains; a domain query matches the name.
        "domainQuery" => OrgQueryFilter::Name(text_leaf(inner, "domain", kind)?),
        "stateQuery" => {
            let state: WireOrgState = inner
                .get("state")
                .cloned()
                .map(wire_from)
                .transpose()
                .map_err(|_| ServiceError::invalid("stateQuery.state is not an OrganizationState"))?
                .unwrap_or_default();
            match state {
                WireOrgState::Active => OrgQueryFilter::State(OrgState::Active),
                WireOrgState::Inactive => OrgQueryFilter::State(OrgState::Inactive),
                // Removed organizations are gone in Tessera.
                WireOrgState::Removed | WireOrgState::Unspecified => no_org(),
            }
        }
        "idQuery" => {
            let id = inner.get("id").and_then(Value::as_str).unwrap_or_default();
            if id.is_empty() || id.chars().count() > 200 {
                return Err(ServiceError::invalid("idQuery.id must be 1 to 200 characters"));
            }
            // An id that is not a UUID cannot exist here; it matches nothing.
            OrgId::parse(id).map_or_else(|_| no_org(), |o| OrgQueryFilter::Ids(vec![o]))
        }
        "defaultQuery" => OrgQueryFilter::Ids(vec![orgs::default_org_id(ctx).await?]),
        other => {
            let name = wire::key_name(other).unwrap_or("this query type");
            return Err(ServiceError::invalid(format!("{name} is not supported by Tessera")));
        }
    })
}

async fn list_organizations(ctx: Ctx, req: ListOrganizationsRequest) -> Result<ListOrganizationsResponse, ApiError> {
    let mut filters = Vec::with_capacity(req.queries.len());
    for q in &req.queries {
        filters.push(org_query(&ctx, q).await?);
    }
    let sort = match req.sorting_column {
        OrgFieldName::Unspecified | OrgFieldName::CreationDate => OrgSort::CreatedAt,
        OrgFieldName::Name => OrgSort::Name,
    };
    let listed = orgs::list(&ctx, filters, sort, req.query.page()).await?;
    Ok(ListOrganizationsResponse {
        details: ListDetails { total_result: listed.total, timestamp: ctx.now() },
        sorting_column: req.sorting_column,
        result: listed.items.iter().map(WireOrganization::from_domain).collect(),
    })
}

// ----------------------------------------------------------------------------
// Update, state changes, delete

/// A request naming one organization.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrgIdRequest {
    /// The organization.
    pub organization_id: String,
}

impl OrgIdRequest {
    fn id(&self) -> Result<OrgId, ServiceError> {
        required_id("organizationId", &self.organization_id, OrgId::parse)
    }
}

/// `UpdateOrganizationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateOrganizationRequest {
    /// The organization.
    pub organization_id: String,
    /// The new name.
    pub name: String,
}

/// A response carrying only a change time.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeDateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
}

/// `DeleteOrganizationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionDateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub deletion_date: Timestamp,
}

async fn update_organization(ctx: Ctx, req: UpdateOrganizationRequest) -> Result<ChangeDateResponse, ApiError> {
    let id = required_id("organizationId", &req.organization_id, OrgId::parse)?;
    let name = OrgName::parse(&req.name)?;
    let org = orgs::rename(&ctx, id, name).await?;
    Ok(ChangeDateResponse { change_date: org.updated_at })
}

async fn change_state(ctx: Ctx, req: OrgIdRequest, change: OrgStateChange) -> Result<ChangeDateResponse, ApiError> {
    let org = orgs::change_state(&ctx, req.id()?, change).await?;
    Ok(ChangeDateResponse { change_date: org.updated_at })
}

async fn delete_organization(ctx: Ctx, req: OrgIdRequest) -> Result<DeletionDateResponse, ApiError> {
    orgs::delete(&ctx, req.id()?).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    Some(match method {
        "AddOrganization" => call.run(add_organization).await,
        "ListOrganizations" => call.run(list_organizations).await,
        "UpdateOrganization" => call.run(update_organization).await,
        "DeactivateOrganization" => call.run(|c, r| change_state(c, r, OrgStateChange::Deactivate)).await,
        "ActivateOrganization" => call.run(|c, r| change_state(c, r, OrgStateChange::Activate)).await,
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
                let mut res = call.run(add_organization).await?;
                *res.status_mut() = StatusCode::CREATED;
                Ok(res)
            }
            ("POST", "/v2/organizations/_search") => call.run(list_organizations).await,
            ("POST", "/v2/organizations/{organizationId}") => call.run(update_organization).await,
            ("DELETE", "/v2/organizations/{organizationId}") => call.run(delete_organization).await,
            ("POST", "/v2/organizations/{organizationId}/deactivate") => {
                call.run(|c, r| change_state(c, r, OrgStateChange::Deactivate)).await
            }
            ("POST", "/v2/organizations/{organizationId}/activate") => {
                call.run(|c, r| change_state(c, r, OrgStateChange::Activate)).await
            }
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
    use super::*;

    #[test]
    fn admins_need_exactly_one_kind_of_user() {
        let none = AdminInput::default();
        assert!(admin_input(0, none).is_err());
        let both = AdminInput {
            user_id: Some(UserId::new().to_string()),
            human: Some(HumanAdminInput::default()),
            roles: vec![],
        };
        assert!(admin_input(0, both).is_err());
        let existing = AdminInput { user_id: Some(UserId::new().to_string()), ..AdminInput::default() };
        assert!(matches!(admin_input(0, existing).unwrap().user, AdminUser::Existing(_)));
    }

    #[test]
    fn unknown_roles_are_refused_by_name() {
        let input = AdminInput {
            user_id: Some(UserId::new().to_string()),
            roles: vec!["ORG_GOD".into()],
            ..AdminInput::default()
        };
        let err = admin_input(2, input).unwrap_err();
        assert_eq!(err.to_string(), "admins[2].roles[0] is not a supported role");
    }
}
