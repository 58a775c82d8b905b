//! ZITADEL's v1 management API, as its grpc-gateway serves it under
//! `/management/v1`: only the two machine-user methods through which ZITADEL's own
//! clients set a machine user's `accessTokenType` (the v2 `CreateUser` of the
//! released SDKs cannot).
//!
//! Wire rules of the gateway: lowerCamelCase JSON (the proto's snake_case names
//! accepted too), unknown fields ignored, zero values may be omitted, and errors as
//! [`GatewayError`] — `{"code": <numeric gRPC code>, "message", "details": []}`.
//! The organization of a call is the caller's own unless the header
//! `x-zitadel-orgid` names another.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tessera_domain::names::{Description, DisplayName, Username};
use tessera_domain::user::User;
use tessera_domain::{OrgId, Timestamp, UserId, ValidationError};

use super::connect::RestCall;
use super::user::{WireAccessTokenType, required_id};
use super::wire;
use crate::error::{ApiError, GatewayError, ServiceError};
use tessera_core::{Ctx, users};

/// The header that sets the organization of a v1 call.
pub const ORG_HEADER: &str = "x-zitadel-orgid";

/// Mounts the v1 routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/management/v1/users/machine", web::post().to(add_machine_user))
        .route("/management/v1/users/{userId}/machine", web::put().to(update_machine));
}

/// `zitadel.v1.ObjectDetails`. `sequence` is omitted, as in the v2 responses:
/// Tessera is not event-sourced, and protojson omits a zero sequence anyway.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDetails {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Owning organization.
    pub resource_owner: String,
}

impl ObjectDetails {
    /// Details of a user.
    #[must_use]
    pub fn of_user(u: &User) -> Self {
        Self { creation_date: u.created_at, change_date: u.updated_at, resource_owner: u.org_id.to_string() }
    }
}

/// `zitadel.management.v1.AddMachineUserRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMachineUserRequest {
    /// Login name (required).
    #[serde(default)]
    pub user_name: String,
    /// Display name (required).
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// What the token endpoint issues; BEARER when omitted.
    #[serde(default)]
    pub access_token_type: WireAccessTokenType,
    /// A caller-chosen id.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `zitadel.management.v1.AddMachineUserResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMachineUserResponse {
    /// The new user's id.
    pub user_id: String,
    /// Details.
    pub details: ObjectDetails,
}

/// `zitadel.management.v1.UpdateMachineRequest`: a full replace of the three
/// fields (plain proto3 fields, so an omitted `accessTokenType` is BEARER).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMachineRequest {
    /// The user (from the path).
    #[serde(default)]
    pub user_id: String,
    /// Display name (required).
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// What the token endpoint issues.
    #[serde(default)]
    pub access_token_type: WireAccessTokenType,
}

/// A response carrying only details.
#[derive(Debug, Serialize)]
pub struct DetailsResponse {
    /// Details.
    pub details: ObjectDetails,
}

/// Names a v1 field in a validation error (the domain says `username`).
fn v1_field(field: &'static str) -> impl FnOnce(ValidationError) -> ValidationError {
    move |e| ValidationError { field: field.into(), ..e }
}

/// The organization named by `x-zitadel-orgid`, if any.
fn org_header(req: &HttpRequest) -> Result<Option<OrgId>, ApiError> {
    let Some(value) = req.headers().get(ORG_HEADER) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ServiceError::invalid(format!("{ORG_HEADER} is not a valid id")))?.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(OrgId::parse(value).map_err(|_| ServiceError::invalid(format!("{ORG_HEADER} is not a valid id")))?))
}

async fn add_machine(
    ctx: Ctx,
    org: Option<OrgId>,
    req: AddMachineUserRequest,
) -> Result<AddMachineUserResponse, ApiError> {
    let username = Username::parse(&req.user_name).map_err(v1_field("userName"))?;
    let name = DisplayName::parse("name", &req.name)?;
    let description = Description::parse(&req.description)?;
    let user_id = req
        .user_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| required_id("userId", s, UserId::parse))
        .transpose()?;
    let user = users::create_machine(
        &ctx,
        users::NewMachine {
            org_id: org,
            user_id,
            username: Some(username),
            name,
            description,
            access_token_type: req.access_token_type.into(),
        },
    )
    .await?;
    Ok(AddMachineUserResponse { user_id: user.id.to_string(), details: ObjectDetails::of_user(&user) })
}

async fn update(ctx: Ctx, org: Option<OrgId>, req: UpdateMachineRequest) -> Result<DetailsResponse, ApiError> {
    let id = required_id("userId", &req.user_id, UserId::parse)?;
    let change = users::MachineUpdate {
        name: Some(DisplayName::parse("name", &req.name)?),
        description: Some(Description::parse(&req.description)?),
        access_token_type: Some(req.access_token_type.into()),
    };
    // With x-zitadel-orgid the user must belong to that organization, as in
    // ZITADEL, where the header scopes every lookup of the call.
    if let Some(org) = org {
        let user = users::get(&ctx, id).await?;
        if user.org_id != org {
            return Err(ServiceError::not_found("user not found").into());
        }
    }
    let user = users::update(&ctx, id, users::UserUpdate { machine: Some(change), ..Default::default() }).await?;
    Ok(DetailsResponse { details: ObjectDetails::of_user(&user) })
}

/// `POST /management/v1/users/machine` (AddMachineUser).
async fn add_machine_user(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, GatewayError> {
    let org = org_header(&req)?;
    let call = RestCall::new(req, payload, &[]).await?;
    Ok(call.run(move |ctx, r| add_machine(ctx, org, r)).await?)
}

/// `PUT /management/v1/users/{userId}/machine` (UpdateMachine).
async fn update_machine(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, GatewayError> {
    let org = org_header(&req)?;
    let user_id = req.match_info().get("userId").unwrap_or_default().to_owned();
    let call = RestCall::new(req, payload, &[("userId", user_id)]).await?;
    Ok(call.run(move |ctx, r| update(ctx, org, r)).await?)
}
