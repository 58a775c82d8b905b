//! `zitadel.user.v2.UserService`: users, personal access tokens and metadata, in
//! the request and response shapes of ZITADEL's `user_service.proto`.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::names::{Description, DisplayName, Email, Username};
use tessera_domain::repo::{Page, PatFilter, PatSort, TextFilter, TextMethod, UserFilter, UserSort, UserType};
use tessera_domain::user::{AccessTokenType, StateChange, User, UserKind, UserState};
use tessera_domain::{OrgId, PatId, Timestamp, UserId};
use tessera_oauth::credential::IssuedCredential;

use super::call::{Call, RestCall};
use super::v2::{
    ChangeDateResponse, DeletionDateResponse, Details, IdFilter, ListDetails, ListQuery, PaginationResponse,
    TextFilterMethod, TimestampFilter, opt_username, required_id, text_leaf, wire_from,
};
use super::wire;
use crate::error::{ApiError, ServiceError};
use crate::proto_enum;
use tessera_core::{Ctx, metadata, pats, secrets, users};

// ----------------------------------------------------------------------------
// Users

proto_enum!(
    /// `zitadel.user.v2.UserState`.
    WireUserState {
        #[default]
        Unspecified = 0 => "USER_STATE_UNSPECIFIED",
        Active = 1 => "USER_STATE_ACTIVE",
        Inactive = 2 => "USER_STATE_INACTIVE",
        Deleted = 3 => "USER_STATE_DELETED",
        Locked = 4 => "USER_STATE_LOCKED",
        Initial = 5 => "USER_STATE_INITIAL",
    }
);

impl From<UserState> for WireUserState {
    fn from(s: UserState) -> Self {
        match s {
            UserState::Active => Self::Active,
            UserState::Inactive => Self::Inactive,
            UserState::Locked => Self::Locked,
        }
    }
}

proto_enum!(
    /// `zitadel.user.v2.AccessTokenType` (v1's spelling is the same).
    WireAccessTokenType {
        #[default]
        Bearer = 0 => "ACCESS_TOKEN_TYPE_BEARER",
        Jwt = 1 => "ACCESS_TOKEN_TYPE_JWT",
    }
);

impl From<WireAccessTokenType> for AccessTokenType {
    fn from(t: WireAccessTokenType) -> Self {
        match t {
            WireAccessTokenType::Bearer => Self::Bearer,
            WireAccessTokenType::Jwt => Self::Jwt,
        }
    }
}

impl From<AccessTokenType> for WireAccessTokenType {
    fn from(t: AccessTokenType) -> Self {
        match t {
            AccessTokenType::Bearer => Self::Bearer,
            AccessTokenType::Jwt => Self::Jwt,
        }
    }
}

/// `zitadel.user.v2.MachineUser`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineUser {
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Whether a client secret is set.
    pub has_secret: bool,
    /// What the token endpoint issues.
    pub access_token_type: WireAccessTokenType,
}

/// `zitadel.user.v2.HumanProfile`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanProfile {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Nickname (Tessera keeps none).
    pub nick_name: String,
    /// Display name.
    pub display_name: String,
    /// Preferred language (`und`: undetermined).
    pub preferred_language: String,
    /// Gender.
    pub gender: &'static str,
}

/// `zitadel.user.v2.HumanEmail`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanEmail {
    /// Address.
    pub email: String,
    /// Verified.
    pub is_verified: bool,
}

/// `zitadel.user.v2.HumanUser`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanUser {
    /// Profile.
    pub profile: HumanProfile,
    /// E-mail.
    pub email: HumanEmail,
    /// Phone (Tessera keeps none).
    pub phone: serde_json::Map<String, Value>,
    /// Whether the password must be changed.
    pub password_change_required: bool,
}

/// `zitadel.user.v2.User`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireUser {
    /// Id.
    pub user_id: String,
    /// Details.
    pub details: Details,
    /// State.
    pub state: WireUserState,
    /// Username.
    pub username: String,
    /// Login names (Tessera: the username).
    pub login_names: Vec<String>,
    /// Preferred login name (Tessera: the username).
    pub preferred_login_name: String,
    /// Human part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human: Option<HumanUser>,
    /// Machine part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<MachineUser>,
}

impl WireUser {
    /// The wire form of a user.
    #[must_use]
    pub fn from_domain(u: &User, has_secret: bool) -> Self {
        let (human, machine) = match &u.kind {
            UserKind::Machine(m) => (
                None,
                Some(MachineUser {
                    name: m.name.to_string(),
                    description: m.description.to_string(),
                    has_secret,
                    access_token_type: m.access_token_type.into(),
                }),
            ),
            UserKind::Human(h) => (
                Some(HumanUser {
                    profile: HumanProfile {
                        given_name: h.given_name.to_string(),
                        family_name: h.family_name.to_string(),
                        nick_name: String::new(),
                        display_name: h.display_name.to_string(),
                        preferred_language: "und".into(),
                        gender: "GENDER_UNSPECIFIED",
                    },
                    email: HumanEmail { email: h.email.to_string(), is_verified: h.email_verified },
                    phone: serde_json::Map::new(),
                    password_change_required: false,
                }),
                None,
            ),
        };
        Self {
            user_id: u.id.to_string(),
            details: Details::of_user(u),
            state: u.state.into(),
            username: u.username.to_string(),
            login_names: vec![u.username.to_string()],
            preferred_login_name: u.username.to_string(),
            human,
            machine,
        }
    }
}

/// `CreateUserRequest.machine` (plus Tessera's `accessTokenType`, as in ZITADEL main).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineInput {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Access token type.
    #[serde(default)]
    pub access_token_type: Option<WireAccessTokenType>,
}

/// `SetHumanProfile`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProfileInput {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// `SetHumanEmail`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EmailInput {
    /// Address.
    pub email: Option<String>,
    /// Mark as verified (Tessera sends no mail, so addresses are never verified by code).
    pub is_verified: Option<bool>,
}

/// `CreateUserRequest.human` / `UpdateUserRequest.human`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HumanInput {
    /// Profile.
    pub profile: Option<ProfileInput>,
    /// E-mail.
    pub email: Option<EmailInput>,
    /// `Password` `{password, changeRequired}`, or the official Python SDK's
    /// nested `{password: {password, …}}` (its generator merged two messages).
    pub password: Option<Value>,
}

impl HumanInput {
    /// The human user to create from this input (CreateUser's `human`, and
    /// AddOrganization's human administrators).
    ///
    /// # Errors
    /// `invalid_argument` naming the field that is missing or malformed.
    pub(crate) fn into_new_human(
        self,
        org_id: Option<OrgId>,
        user_id: Option<UserId>,
        username: Option<Username>,
    ) -> Result<users::NewHuman, ServiceError> {
        let password = self.password()?;
        let profile = self.profile.unwrap_or_default();
        let email = self.email.unwrap_or_default();
        Ok(users::NewHuman {
            org_id,
            user_id,
            username,
            given_name: DisplayName::parse(
                "human.profile.givenName",
                profile.given_name.as_deref().unwrap_or_default(),
            )?,
            family_name: DisplayName::parse(
                "human.profile.familyName",
                profile.family_name.as_deref().unwrap_or_default(),
            )?,
            display_name: profile
                .display_name
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| DisplayName::parse("human.profile.displayName", s))
                .transpose()?,
            email: Email::parse(email.email.as_deref().unwrap_or_default())?,
            email_verified: email.is_verified.unwrap_or(false),
            password,
        })
    }

    fn password(&self) -> Result<Option<SecretString>, ServiceError> {
        let Some(p) = &self.password else { return Ok(None) };
        let inner = match p.get("password") {
            Some(Value::Object(_)) => p.get("password").and_then(|n| n.get("password")),
            other => other,
        };
        match inner.and_then(Value::as_str) {
            Some(s) if !s.is_empty() && s.chars().count() <= 200 => Ok(Some(SecretString::from(s.to_owned()))),
            _ => Err(ServiceError::invalid("human.password.password must be 1 to 200 characters")),
        }
    }
}

/// `CreateUserRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// Owning organization.
    #[serde(default)]
    pub organization_id: String,
    /// Caller-chosen id (a UUID in Tessera).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Login name.
    #[serde(default)]
    pub username: Option<String>,
    /// Human variant.
    #[serde(default)]
    pub human: Option<HumanInput>,
    /// Machine variant.
    #[serde(default)]
    pub machine: Option<MachineInput>,
}

/// `CreateUserResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserResponse {
    /// The new user's id.
    pub id: String,
    /// Creation time.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

async fn create_user(ctx: Ctx, req: CreateUserRequest) -> Result<CreateUserResponse, ApiError> {
    let org_id = required_id("organizationId", &req.organization_id, OrgId::parse)?;
    let user_id = req
        .user_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| required_id("userId", s, UserId::parse))
        .transpose()?;
    let username = opt_username(req.username.as_deref())?;
    let user = match (req.machine, req.human) {
        (Some(m), None) => {
            let name = DisplayName::parse("machine.name", m.name.as_deref().unwrap_or_default())?;
            let description = Description::parse(m.description.as_deref().unwrap_or_default())?;
            users::create_machine(
                &ctx,
                users::NewMachine {
                    org_id: Some(org_id),
                    user_id,
                    username,
                    name,
                    description,
                    access_token_type: m.access_token_type.unwrap_or_default().into(),
                },
            )
            .await?
        }
        (None, Some(h)) => users::create_human(&ctx, h.into_new_human(Some(org_id), user_id, username)?).await?,
        _ => return Err(ServiceError::invalid("exactly one of machine or human is required").into()),
    };
    Ok(CreateUserResponse { id: user.id.to_string(), creation_date: user.created_at })
}

/// A request naming one user.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdRequest {
    /// The user.
    #[serde(default)]
    pub user_id: String,
}

impl UserIdRequest {
    fn id(&self) -> Result<UserId, ServiceError> {
        required_id("userId", &self.user_id, UserId::parse)
    }
}

/// `GetUserByIDResponse`.
#[derive(Debug, Serialize)]
pub struct GetUserResponse {
    /// Details (duplicate of `user.details`, as in ZITADEL).
    pub details: Details,
    /// The user.
    pub user: WireUser,
}

async fn get_user(ctx: Ctx, req: UserIdRequest) -> Result<GetUserResponse, ApiError> {
    let user = users::get(&ctx, req.id()?).await?;
    let has_secret = secrets::has_secret(&ctx, &user).await?;
    Ok(GetUserResponse { details: Details::of_user(&user), user: WireUser::from_domain(&user, has_secret) })
}

proto_enum!(
    /// `zitadel.user.v2.Type`.
    WireUserType {
        #[default]
        Unspecified = 0 => "TYPE_UNSPECIFIED",
        Human = 1 => "TYPE_HUMAN",
        Machine = 2 => "TYPE_MACHINE",
    }
);

proto_enum!(
    /// `zitadel.user.v2.UserFieldName`.
    UserFieldName {
        #[default]
        Unspecified = 0 => "USER_FIELD_NAME_UNSPECIFIED",
        UserName = 1 => "USER_FIELD_NAME_USER_NAME",
        FirstName = 2 => "USER_FIELD_NAME_FIRST_NAME",
        LastName = 3 => "USER_FIELD_NAME_LAST_NAME",
        NickName = 4 => "USER_FIELD_NAME_NICK_NAME",
        DisplayName = 5 => "USER_FIELD_NAME_DISPLAY_NAME",
        Email = 6 => "USER_FIELD_NAME_EMAIL",
        State = 7 => "USER_FIELD_NAME_STATE",
        Type = 8 => "USER_FIELD_NAME_TYPE",
        CreationDate = 9 => "USER_FIELD_NAME_CREATION_DATE",
    }
);

/// Converts one `zitadel.user.v2.SearchQuery` (a one-key object) into a filter.
fn user_query(q: &Value, depth: usize) -> Result<UserFilter, ServiceError> {
    if depth > 16 {
        return Err(ServiceError::invalid("queries are nested too deeply"));
    }
    let obj = q
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| ServiceError::invalid("each query must be an object with exactly one query type"))?;
    let Some((kind, inner)) = obj.iter().next() else { return Err(ServiceError::invalid("empty query")) };
    let list = |key: &str| -> Result<Vec<UserFilter>, ServiceError> {
        inner
            .get(key)
            .and_then(Value::as_array)
            .map_or(Ok(Vec::new()), |qs| qs.iter().map(|q| user_query(q, depth + 1)).collect())
    };
    Ok(match kind.as_str() {
        "userNameQuery" => UserFilter::Username(text_leaf(inner, "userName", kind)?),
        "loginNameQuery" => UserFilter::Username(text_leaf(inner, "loginName", kind)?),
        "firstNameQuery" => UserFilter::GivenName(text_leaf(inner, "firstName", kind)?),
        "lastNameQuery" => UserFilter::FamilyName(text_leaf(inner, "lastName", kind)?),
        "displayNameQuery" => UserFilter::DisplayName(text_leaf(inner, "displayName", kind)?),
        "emailQuery" => UserFilter::Email(text_leaf(inner, "emailAddress", kind)?),
        "stateQuery" => {
            let state: WireUserState = inner
                .get("state")
                .cloned()
                .map(wire_from)
                .transpose()
                .map_err(|_| ServiceError::invalid("stateQuery.state is not a UserState"))?
                .unwrap_or_default();
            match state {
                WireUserState::Active => UserFilter::State(UserState::Active),
                WireUserState::Inactive => UserFilter::State(UserState::Inactive),
                WireUserState::Locked => UserFilter::State(UserState::Locked),
                // Tessera has no deleted (they are gone) or initial users.
                _ => UserFilter::Ids(Vec::new()),
            }
        }
        "typeQuery" => {
            let t: WireUserType = inner
                .get("type")
                .cloned()
                .map(wire_from)
                .transpose()
                .map_err(|_| ServiceError::invalid("typeQuery.type is not a Type"))?
                .unwrap_or_default();
            match t {
                WireUserType::Human => UserFilter::Type(UserType::Human),
                WireUserType::Machine => UserFilter::Type(UserType::Machine),
                WireUserType::Unspecified => {
                    return Err(ServiceError::invalid("typeQuery.type must be TYPE_HUMAN or TYPE_MACHINE"));
                }
            }
        }
        "inUserIdsQuery" => {
            let ids = inner.get("userIds").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            // Ids that are not UUIDs cannot exist here; they simply match nothing.
            UserFilter::Ids(ids.iter().filter_map(Value::as_str).filter_map(|s| UserId::parse(s).ok()).collect())
        }
        "inUserEmailsQuery" => {
            let emails = inner.get("userEmails").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            UserFilter::Or(
                emails
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|e| {
                        UserFilter::Email(TextFilter { value: e.to_owned(), method: TextMethod::EqualsIgnoreCase })
                    })
                    .collect(),
            )
        }
        "organizationIdQuery" => {
            let id = inner.get("organizationId").and_then(Value::as_str).unwrap_or_default();
            match OrgId::parse(id) {
                Ok(org) => UserFilter::Org(org),
                Err(_) if id.is_empty() => {
                    return Err(ServiceError::invalid("organizationIdQuery.organizationId is required"));
                }
                Err(_) => UserFilter::Ids(Vec::new()),
            }
        }
        "orQuery" => UserFilter::Or(list("queries")?),
        "andQuery" => UserFilter::And(list("queries")?),
        "notQuery" => UserFilter::Not(Box::new(user_query(inner.get("query").unwrap_or(&Value::Null), depth + 1)?)),
        other => {
            let name = wire::key_name(other).unwrap_or("this query type");
            return Err(ServiceError::invalid(format!("{name} is not supported by Tessera")));
        }
    })
}

/// `ListUsersRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListUsersRequest {
    /// Paging.
    pub query: ListQuery,
    /// Order.
    pub sorting_column: UserFieldName,
    /// Filters (all must match).
    pub queries: Vec<Value>,
}

/// `ListUsersResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListUsersResponse {
    /// Totals.
    pub details: ListDetails,
    /// The order used.
    pub sorting_column: UserFieldName,
    /// The users.
    pub result: Vec<WireUser>,
}

async fn list_users(ctx: Ctx, req: ListUsersRequest) -> Result<ListUsersResponse, ApiError> {
    let (filters, sort, page) = list_users_query(&req)?;
    let listed = users::list(&ctx, filters, sort, page).await?;
    let with_secret = secrets::users_with_secret(&ctx, &listed.items).await?;
    Ok(ListUsersResponse {
        details: ListDetails { total_result: listed.total, timestamp: ctx.now() },
        sorting_column: req.sorting_column,
        result: listed.items.iter().map(|u| WireUser::from_domain(u, with_secret.contains(&u.id))).collect(),
    })
}

/// The filters, order and page of a `ListUsers` request, checked before any
/// SQL is built; also the entry point of the list-query fuzz target
/// (docs/security/fuzzing.md).
///
/// # Errors
/// `invalid_argument` for a query the API does not accept.
pub fn list_users_query(req: &ListUsersRequest) -> Result<(Vec<UserFilter>, UserSort, Page), ApiError> {
    let filters = req.queries.iter().map(|q| user_query(q, 0)).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        UserFieldName::Unspecified | UserFieldName::CreationDate => UserSort::CreatedAt,
        UserFieldName::UserName => UserSort::Username,
        UserFieldName::FirstName => UserSort::GivenName,
        UserFieldName::LastName => UserSort::FamilyName,
        UserFieldName::NickName | UserFieldName::DisplayName => UserSort::DisplayName,
        UserFieldName::Email => UserSort::Email,
        UserFieldName::State => UserSort::State,
        UserFieldName::Type => UserSort::Type,
    };
    Ok((filters, sort, req.query.page()))
}

/// `UpdateUserRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    /// The user.
    #[serde(default)]
    pub user_id: String,
    /// New login name.
    #[serde(default)]
    pub username: Option<String>,
    /// Human changes.
    #[serde(default)]
    pub human: Option<HumanInput>,
    /// Machine changes.
    #[serde(default)]
    pub machine: Option<MachineInput>,
}

async fn update_user(ctx: Ctx, req: UpdateUserRequest) -> Result<ChangeDateResponse, ApiError> {
    let id = required_id("userId", &req.user_id, UserId::parse)?;
    let machine = req
        .machine
        .map(|m| -> Result<_, ServiceError> {
            Ok(users::MachineUpdate {
                name: m.name.as_deref().map(|n| DisplayName::parse("machine.name", n)).transpose()?,
                description: m.description.as_deref().map(Description::parse).transpose()?,
                access_token_type: m.access_token_type.map(Into::into),
            })
        })
        .transpose()?;
    let human = match req.human {
        Some(h) => {
            let password = h.password()?;
            let profile = h.profile.unwrap_or_default();
            let parse = |field: &'static str, v: Option<String>| v.map(|v| DisplayName::parse(field, &v)).transpose();
            Some(users::HumanUpdate {
                given_name: parse("human.profile.givenName", profile.given_name)?,
                family_name: parse("human.profile.familyName", profile.family_name)?,
                display_name: parse("human.profile.displayName", profile.display_name)?,
                email: match h.email.and_then(|e| e.email.map(|a| (a, e.is_verified.unwrap_or(false)))) {
                    Some((address, verified)) => Some((Email::parse(&address)?, verified)),
                    None => None,
                },
                password,
            })
        }
        None => None,
    };
    let username = opt_username(req.username.as_deref())?;
    let user = users::update(&ctx, id, users::UserUpdate { username, machine, human }).await?;
    Ok(ChangeDateResponse { change_date: user.updated_at })
}

/// A response carrying the details of the changed object.
#[derive(Debug, Serialize)]
pub struct DetailsResponse {
    /// Details.
    pub details: Details,
}

async fn change_state(ctx: Ctx, req: UserIdRequest, change: StateChange) -> Result<DetailsResponse, ApiError> {
    let user = users::change_state(&ctx, req.id()?, change).await?;
    Ok(DetailsResponse { details: Details::of_user(&user) })
}

async fn delete_user(ctx: Ctx, req: UserIdRequest) -> Result<DetailsResponse, ApiError> {
    let user = users::delete(&ctx, req.id()?).await?;
    let now = ctx.now();
    Ok(DetailsResponse {
        details: Details { change_date: now, creation_date: user.created_at, resource_owner: user.org_id.to_string() },
    })
}

// ----------------------------------------------------------------------------
// Personal access tokens

/// `AddPersonalAccessTokenRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddPatRequest {
    /// The machine user.
    #[serde(default)]
    pub user_id: String,
    /// Expiration; 9999-12-31 when absent (unless the organization limits lifetimes).
    #[serde(default, with = "wire::opt_ts")]
    pub expiration_date: Option<Timestamp>,
}

/// `AddPersonalAccessTokenResponse`. The only time the token is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddPatResponse {
    /// Creation time.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// The token's id.
    pub token_id: String,
    /// The token.
    pub token: String,
}

impl AddPatResponse {
    fn new(pat: &tessera_domain::pat::PersonalAccessToken, token: &IssuedCredential) -> Self {
        Self { creation_date: pat.created_at, token_id: pat.id.to_string(), token: token.expose_secret().to_owned() }
    }
}

async fn add_pat(ctx: Ctx, req: AddPatRequest) -> Result<AddPatResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let (pat, token) = pats::add(&ctx, user, req.expiration_date).await?;
    Ok(AddPatResponse::new(&pat, &token))
}

/// `RemovePersonalAccessTokenRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovePatRequest {
    /// The user.
    #[serde(default)]
    pub user_id: String,
    /// The token.
    #[serde(default)]
    pub token_id: String,
}

async fn remove_pat(ctx: Ctx, req: RemovePatRequest) -> Result<DeletionDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let token = match PatId::parse(&req.token_id) {
        Ok(t) => Some(t),
        Err(_) if req.token_id.trim().is_empty() => return Err(ServiceError::invalid("tokenId is required").into()),
        // Not an id Tessera could have issued: nothing to remove.
        Err(_) => None,
    };
    match token {
        Some(token) => pats::remove(&ctx, user, token).await?,
        None => {
            ctx.user(user).await?;
        }
    }
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

proto_enum!(
    /// `zitadel.user.v2.PersonalAccessTokenFieldName`.
    PatFieldName {
        #[default]
        Unspecified = 0 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_UNSPECIFIED",
        CreatedDate = 1 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_CREATED_DATE",
        Id = 2 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ID",
        UserId = 3 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_USER_ID",
        OrganizationId = 4 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_ORGANIZATION_ID",
        ExpirationDate = 5 => "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE",
    }
);

/// `PersonalAccessTokensSearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PatSearchFilter {
    /// By token.
    pub token_id_filter: Option<IdFilter>,
    /// By user.
    pub user_id_filter: Option<IdFilter>,
    /// By organization.
    pub organization_id_filter: Option<IdFilter>,
    /// By creation.
    pub created_date_filter: Option<TimestampFilter>,
    /// By expiration.
    pub expiration_date_filter: Option<TimestampFilter>,
}

impl PatSearchFilter {
    fn to_domain(&self) -> Result<PatFilter, ServiceError> {
        // An id that is not a UUID cannot match anything Tessera stores.
        let nothing = || {
            PatFilter::And(vec![
                PatFilter::Token(PatId::new()),
                PatFilter::Not(Box::new(PatFilter::Token(PatId::new()))),
            ])
        };
        let set = [
            self.token_id_filter.is_some(),
            self.user_id_filter.is_some(),
            self.organization_id_filter.is_some(),
            self.created_date_filter.is_some(),
            self.expiration_date_filter.is_some(),
        ];
        wire::exactly_one_filter(&set)?;
        Ok(if let Some(f) = &self.token_id_filter {
            PatId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::Token)
        } else if let Some(f) = &self.user_id_filter {
            UserId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::User)
        } else if let Some(f) = &self.organization_id_filter {
            OrgId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::Org)
        } else if let Some(f) = &self.created_date_filter {
            PatFilter::CreatedAt(f.to_domain())
        } else if let Some(f) = &self.expiration_date_filter {
            PatFilter::ExpiresAt(f.to_domain())
        } else {
            return Err(wire::one_filter_error());
        })
    }
}

/// `ListPersonalAccessTokensRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListPatsRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: PatFieldName,
    /// Filters (all must match).
    pub filters: Vec<PatSearchFilter>,
}

/// `zitadel.user.v2.PersonalAccessToken` (never the token), plus Tessera's
/// `lastUsedDate` (batched; may lag a few seconds; absent when never used).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePat {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change (tokens never change: the creation time).
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Owner's organization.
    pub organization_id: String,
    /// Expiration.
    #[serde(with = "wire::ts")]
    pub expiration_date: Timestamp,
    /// Tessera extension: last successful use.
    #[serde(skip_serializing_if = "Option::is_none", with = "wire::opt_ts")]
    pub last_used_date: Option<Timestamp>,
}

/// `ListPersonalAccessTokensResponse`.
#[derive(Debug, Serialize)]
pub struct ListPatsResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The tokens.
    pub result: Vec<WirePat>,
}

async fn list_pats(ctx: Ctx, req: ListPatsRequest) -> Result<ListPatsResponse, ApiError> {
    let filters = req.filters.iter().map(PatSearchFilter::to_domain).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        PatFieldName::Unspecified | PatFieldName::CreatedDate => PatSort::CreatedAt,
        PatFieldName::Id => PatSort::Id,
        PatFieldName::UserId => PatSort::User,
        PatFieldName::OrganizationId => PatSort::Org,
        PatFieldName::ExpirationDate => PatSort::ExpiresAt,
    };
    let page = req.pagination.page();
    let listed = pats::list(&ctx, filters, sort, page).await?;
    Ok(ListPatsResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        result: listed
            .items
            .into_iter()
            .map(|p| WirePat {
                creation_date: p.pat.created_at,
                change_date: p.pat.created_at,
                id: p.pat.id.to_string(),
                user_id: p.pat.user_id.to_string(),
                organization_id: p.org_id.to_string(),
                expiration_date: p.pat.expires_at,
                last_used_date: p.pat.last_used_at,
            })
            .collect(),
    })
}

// ----------------------------------------------------------------------------
// Metadata

/// One metadata entry on the wire (`value` is base64).
#[derive(Debug, Deserialize)]
pub struct MetadataInput {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value, base64.
    #[serde(default)]
    pub value: String,
}

/// `SetUserMetadataRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetMetadataRequest {
    /// The user.
    #[serde(default)]
    pub user_id: String,
    /// Entries.
    #[serde(default)]
    pub metadata: Vec<MetadataInput>,
}

/// `SetUserMetadataResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetMetadataResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub set_date: Timestamp,
}

async fn set_metadata(ctx: Ctx, req: SetMetadataRequest) -> Result<SetMetadataResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let entries = req
        .metadata
        .into_iter()
        .map(|m| {
            B64.decode(m.value.as_bytes())
                .map(|v| (m.key, v))
                .map_err(|_| ServiceError::invalid("metadata value must be base64"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    metadata::set(&ctx, user, entries).await?;
    Ok(SetMetadataResponse { set_date: ctx.now() })
}

/// `MetadataSearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MetadataFilter {
    /// By key.
    pub key_filter: Option<KeyFilter>,
}

/// `MetadataKeyFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyFilter {
    /// Key.
    pub key: String,
    /// Comparison.
    pub method: TextFilterMethod,
}

/// `ListUserMetadataRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListMetadataRequest {
    /// The user.
    pub user_id: String,
    /// Paging.
    pub pagination: ListQuery,
    /// Filters.
    pub filters: Vec<MetadataFilter>,
}

/// `zitadel.metadata.v2.Metadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMetadata {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Key.
    pub key: String,
    /// Value, base64.
    pub value: String,
}

/// `ListUserMetadataResponse`.
#[derive(Debug, Serialize)]
pub struct ListMetadataResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// Entries.
    pub metadata: Vec<WireMetadata>,
}

async fn list_metadata(ctx: Ctx, req: ListMetadataRequest) -> Result<ListMetadataResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    if req.filters.len() > 1 {
        return Err(ServiceError::invalid("at most one metadata filter is supported").into());
    }
    let key = req
        .filters
        .first()
        .map(|f| f.key_filter.as_ref().ok_or_else(|| ServiceError::invalid("filters[0].keyFilter is required")))
        .transpose()?
        .map(|k| TextFilter { value: k.key.clone(), method: k.method.to_domain() });
    let page = req.pagination.page();
    let listed = metadata::list(&ctx, user, key, page).await?;
    Ok(ListMetadataResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        metadata: listed
            .items
            .into_iter()
            .map(|e| WireMetadata {
                creation_date: e.created_at,
                change_date: e.updated_at,
                key: e.key,
                value: B64.encode(e.value),
            })
            .collect(),
    })
}

/// `DeleteUserMetadataRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeleteMetadataRequest {
    /// The user.
    pub user_id: String,
    /// Keys to delete.
    pub keys: Vec<String>,
}

async fn delete_metadata(ctx: Ctx, req: DeleteMetadataRequest) -> Result<DeletionDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    metadata::delete(&ctx, user, req.keys).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    Some(match method {
        "CreateUser" => call.run(create_user).await,
        "GetUserByID" => call.run(get_user).await,
        "ListUsers" => call.run(list_users).await,
        "UpdateUser" => call.run(update_user).await,
        "DeactivateUser" => call.run(|c, r| change_state(c, r, StateChange::Deactivate)).await,
        "ReactivateUser" => call.run(|c, r| change_state(c, r, StateChange::Reactivate)).await,
        "LockUser" => call.run(|c, r| change_state(c, r, StateChange::Lock)).await,
        "UnlockUser" => call.run(|c, r| change_state(c, r, StateChange::Unlock)).await,
        "DeleteUser" => call.run(delete_user).await,
        "AddPersonalAccessToken" => call.run(add_pat).await,
        "RemovePersonalAccessToken" => call.run(remove_pat).await,
        "ListPersonalAccessTokens" => call.run(list_pats).await,
        "SetUserMetadata" => call.run(set_metadata).await,
        "ListUserMetadata" => call.run(list_metadata).await,
        "DeleteUserMetadata" => call.run(delete_metadata).await,
        _ => return super::user_credentials::dispatch(method, call).await,
    })
}

/// `{userId}` of a REST path.
fn uid(req: &HttpRequest) -> (&'static str, String) {
    ("userId", req.match_info().get("userId").unwrap_or_default().to_owned())
}

/// Mounts ZITADEL's REST paths for the methods above.
pub fn rest_routes(cfg: &mut web::ServiceConfig) {
    async fn rest(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
        let method = req.method().clone();
        // v2beta's paths are v2's for the methods both have (the same messages).
        let pattern = req.match_pattern().unwrap_or_default().replacen("/v2beta/", "/v2/", 1);
        let mut params = vec![];
        if req.match_info().get("userId").is_some() {
            params.push(uid(&req));
        }
        if let Some(t) = req.match_info().get("tokenId") {
            params.push(("tokenId", t.to_owned()));
        }
        let keys: Vec<String> = if pattern.ends_with("/metadata") && method == actix_web::http::Method::DELETE {
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner().into_iter().filter(|(k, _)| k == "keys").map(|(_, v)| v).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let call = RestCall::new(req, payload, &params).await?;
        match (method.as_str(), pattern.as_str()) {
            ("POST", "/v2/users/new") => call.run(create_user).await,
            ("POST", "/v2/users") => call.run(list_users).await,
            ("POST", "/v2/users/pats/search") => call.run(list_pats).await,
            ("GET", "/v2/users/{userId}") => call.run(get_user).await,
            ("PATCH", "/v2/users/{userId}") => call.run(update_user).await,
            ("DELETE", "/v2/users/{userId}") => call.run(delete_user).await,
            ("POST", "/v2/users/{userId}/deactivate") => {
                call.run(|c, r| change_state(c, r, StateChange::Deactivate)).await
            }
            ("POST", "/v2/users/{userId}/reactivate") => {
                call.run(|c, r| change_state(c, r, StateChange::Reactivate)).await
            }
            ("POST", "/v2/users/{userId}/lock") => call.run(|c, r| change_state(c, r, StateChange::Lock)).await,
            ("POST", "/v2/users/{userId}/unlock") => call.run(|c, r| change_state(c, r, StateChange::Unlock)).await,
            ("POST", "/v2/users/{userId}/pats") => call.run(add_pat).await,
            ("DELETE", "/v2/users/{userId}/pats/{tokenId}") => call.run(remove_pat).await,
            ("POST", "/v2/users/{userId}/metadata") => call.run(set_metadata).await,
            ("POST", "/v2/users/{userId}/metadata/search") => call.run(list_metadata).await,
            ("DELETE", "/v2/users/{userId}/metadata") => {
                call.run(move |c, mut r: DeleteMetadataRequest| {
                    r.keys.extend(keys);
                    delete_metadata(c, r)
                })
                .await
            }
            _ => Err(ApiError::new(crate::error::ConnectCode::Unimplemented, "unknown route")),
        }
    }
    cfg.route("/v2/users/new", web::post().to(rest))
        .route("/v2/users/pats/search", web::post().to(rest))
        .route("/v2/users", web::post().to(rest))
        .route("/v2/users/{userId}", web::get().to(rest))
        .route("/v2/users/{userId}", web::patch().to(rest))
        .route("/v2/users/{userId}", web::delete().to(rest))
        .route("/v2/users/{userId}/deactivate", web::post().to(rest))
        .route("/v2/users/{userId}/reactivate", web::post().to(rest))
        .route("/v2/users/{userId}/lock", web::post().to(rest))
        .route("/v2/users/{userId}/unlock", web::post().to(rest))
        .route("/v2/users/{userId}/pats", web::post().to(rest))
        .route("/v2/users/{userId}/pats/{tokenId}", web::delete().to(rest))
        .route("/v2/users/{userId}/metadata", web::post().to(rest))
        .route("/v2/users/{userId}/metadata/search", web::post().to(rest))
        .route("/v2/users/{userId}/metadata", web::delete().to(rest))
        // zitadel.user.v2beta.UserService's gateway paths.
        .route("/v2beta/users", web::post().to(rest))
        .route("/v2beta/users/{userId}", web::get().to(rest))
        .route("/v2beta/users/{userId}", web::delete().to(rest))
        .route("/v2beta/users/{userId}/deactivate", web::post().to(rest))
        .route("/v2beta/users/{userId}/reactivate", web::post().to(rest))
        .route("/v2beta/users/{userId}/lock", web::post().to(rest))
        .route("/v2beta/users/{userId}/unlock", web::post().to(rest));
}
