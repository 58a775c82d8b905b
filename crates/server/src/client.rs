//! The client half of `tessera`: `tessera users …` and `tessera pats …` drive a
//! running server over its HTTP API, with the same Connect calls ZITADEL's SDKs
//! make, authenticated by a Personal Access Token.
//!
//! Output contract (scripts rely on it): a table on standard output by default,
//! the server's JSON response with `--json`; `pats add` prints the new token alone
//! on standard output (its notice goes to standard error), so
//! `TOKEN=$(tessera pats add --user … --quiet)` captures exactly the token. Errors
//! are one line on standard error — the server's Connect code and message — and
//! exit code 1; a missing or unreadable token is a usage error (exit code 2). The
//! token is never printed in an error.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::cli::{
    ClientCommand, FederationAction, FederationArgs, KeySourceArgs, PatsAction, PatsArgs, UsersAction, UsersArgs,
    WebhooksAction, WebhooksArgs,
};

/// The environment variable holding the token when `--token-file` is not given.
pub const TOKEN_ENV: &str = "TESSERA_TOKEN";

/// Exit code for usage mistakes (as clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the server refused or could not be reached.
pub const EXIT_FAILURE: u8 = 1;

const USER_SERVICE: &str = "zitadel.user.v2.UserService";
const ORG_SERVICE: &str = "zitadel.org.v2.OrganizationService";
const FEDERATION_SERVICE: &str = "tessera.federation.v1.FederationService";
const WEBHOOK_SERVICE: &str = "tessera.webhook.v1.WebhookService";

/// Why a client command failed.
#[derive(Debug)]
pub enum ClientError {
    /// The command line or environment is unusable (exit code 2).
    Usage(String),
    /// The server could not be reached or answered something that is not the API.
    Transport(String),
    /// The server refused the call with a Connect error.
    Api {
        /// Connect code (`permission_denied`, …).
        code: String,
        /// The server's message.
        message: String,
    },
}

impl ClientError {
    /// The process exit code for this error.
    #[must_use]
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Transport(_) | Self::Api { .. } => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) | Self::Transport(m) => f.write_str(m),
            Self::Api { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Reads the token: from `token_file` when given, else from `env_token` (the value
/// of `TESSERA_TOKEN`). Surrounding whitespace is ignored.
///
/// # Errors
/// `Usage` when there is no token, the file cannot be read, or the token is not a
/// single printable line; the message never contains the token.
pub fn read_token(token_file: Option<&Path>, env_token: Option<String>) -> Result<SecretString, ClientError> {
    let (raw, source) = match token_file {
        Some(path) => {
            let raw = std::fs::read_to_string(path)
                .map_err(|e| ClientError::Usage(format!("cannot read the token file {}: {e}", path.display())))?;
            (SecretString::from(raw), format!("the token file {}", path.display()))
        }
        None => match env_token {
            Some(raw) => (SecretString::from(raw), TOKEN_ENV.to_owned()),
            None => {
                return Err(ClientError::Usage(format!(
                    "no token: pass --token-file FILE or set {TOKEN_ENV} to a Personal Access Token"
                )));
            }
        },
    };
    let token = raw.expose_secret().trim();
    if token.is_empty() {
        return Err(ClientError::Usage(format!("{source} is empty")));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ClientError::Usage(format!("{source} does not hold a single token")));
    }
    Ok(SecretString::from(token.to_owned()))
}

/// A connection to a Tessera (or ZITADEL) API.
pub struct Client {
    http: reqwest::Client,
    base: reqwest::Url,
    token: SecretString,
}

impl Client {
    /// A client for the server at `url`.
    ///
    /// # Errors
    /// `Usage` when the URL is not an http(s) URL.
    pub fn new(url: &str, token: SecretString) -> Result<Self, ClientError> {
        let bad = || ClientError::Usage("--url must be an http:// or https:// URL".to_owned());
        let mut base = reqwest::Url::parse(url.trim()).map_err(|_| bad())?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(bad());
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(ClientError::Usage("--url must not contain credentials; use --token-file".to_owned()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // Never follow a redirect with the token attached.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tessera-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Transport(format!("cannot set up HTTP: {}", e.without_url())))?;
        Ok(Self { http, base, token })
    }

    /// The server, for messages: scheme, host and port.
    fn origin(&self) -> String {
        self.base.origin().ascii_serialization()
    }

    /// Calls `<service>/<method>` with the Connect protocol (unary, JSON).
    ///
    /// # Errors
    /// `Api` with the server's Connect error, `Transport` when there is no usable
    /// answer.
    pub async fn call(&self, service: &str, method: &str, body: &Value) -> Result<Value, ClientError> {
        let url = self
            .base
            .join(&format!("{service}/{method}"))
            .map_err(|_| ClientError::Usage("--url cannot be combined with an API path".to_owned()))?;
        let response = self
            .http
            .post(url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(|e| ClientError::Transport(format!("cannot reach {}: {}", self.origin(), e.without_url())))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            ClientError::Transport(format!("reading the answer of {} failed: {}", self.origin(), e.without_url()))
        })?;
        let parsed: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return parsed.ok_or_else(|| {
                ClientError::Transport(format!("{} answered {status} without a JSON body", self.origin()))
            });
        }
        match parsed.as_ref().and_then(|v| Some((v.get("code")?.as_str()?, v.get("message")?.as_str()?))) {
            Some((code, message)) => Err(ClientError::Api { code: code.to_owned(), message: one_line(message) }),
            None => Err(ClientError::Transport(format!(
                "{} answered HTTP {status}, which is not a Tessera API error",
                self.origin()
            ))),
        }
    }
}

/// Collapses whitespace so an error stays on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a command writes: standard output, and notices for standard error.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// For standard output.
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
}

impl Output {
    fn out(stdout: String) -> Self {
        Self { stdout, stderr: String::new() }
    }

    fn json(v: &Value) -> Self {
        Self::out(format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default()))
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or_default()
}

/// Shows a timestamp; ZITADEL's "no expiration" (year 9999) as `never`.
fn when(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else if s.starts_with("9999-") {
        "never".to_owned()
    } else {
        s.to_owned()
    }
}

/// Renders rows under a header, columns padded to their widest cell.
#[must_use]
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(cell);
            l.extend(std::iter::repeat_n(' ', w.saturating_sub(cell.chars().count())));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// A notice when a list has more rows than were shown.
fn more_notice(shown: usize, offset: u64, total: &Value) -> String {
    let total = match total {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    };
    let end = offset + shown as u64;
    if total > end {
        format!("showing {} to {end} of {total}; use --offset {end} for more\n", offset + 1)
    } else {
        String::new()
    }
}

/// Runs `tessera users …`.
///
/// # Errors
/// As [`Client::call`].
pub async fn users(client: &Client, args: &UsersArgs) -> Result<Output, ClientError> {
    let json_out = args.client.json;
    match &args.action {
        UsersAction::CreateMachine { org, username, name, description, access_token_type, quiet } => {
            let org = &org_id(client, org).await?;
            let body = json!({
                "organizationId": org,
                "username": username,
                "machine": {
                    "name": name.as_deref().unwrap_or(username),
                    "description": description,
                    "accessTokenType": access_token_type.wire(),
                },
            });
            let res = client.call(USER_SERVICE, "CreateUser", &body).await?;
            let id = str_at(&res, &["id"]);
            Ok(if json_out {
                Output::json(&res)
            } else if *quiet {
                Output::out(format!("{id}\n"))
            } else {
                Output::out(table(
                    &["ID", "USERNAME", "ORGANIZATION", "ACCESS TOKEN TYPE", "CREATED"],
                    &[vec![
                        id.to_owned(),
                        username.clone(),
                        org.clone(),
                        format!("{access_token_type:?}").to_lowercase(),
                        when(str_at(&res, &["creationDate"])),
                    ]],
                ))
            })
        }
        UsersAction::List { org, limit, offset } => {
            let mut body = json!({"query": {"offset": offset.to_string(), "limit": limit, "asc": true}});
            if let Some(org) = org {
                body["queries"] = json!([{"organizationIdQuery": {"organizationId": org_id(client, org).await?}}]);
            }
            let res = client.call(USER_SERVICE, "ListUsers", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let users = res.get("result").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    let (kind, name) = if u.get("machine").is_some() {
                        ("machine", str_at(u, &["machine", "name"]))
                    } else {
                        ("human", str_at(u, &["human", "profile", "displayName"]))
                    };
                    let state = str_at(u, &["state"]).trim_start_matches("USER_STATE_").to_lowercase();
                    vec![
                        str_at(u, &["userId"]).to_owned(),
                        str_at(u, &["username"]).to_owned(),
                        kind.to_owned(),
                        state,
                        name.to_owned(),
                        str_at(u, &["details", "resourceOwner"]).to_owned(),
                    ]
                })
                .collect();
            Ok(Output {
                stdout: table(&["ID", "USERNAME", "TYPE", "STATE", "NAME", "ORGANIZATION"], &rows),
                stderr: more_notice(rows.len(), *offset, &res["details"]["totalResult"]),
            })
        }
    }
}

/// A `--user` argument as a user id: an id is taken as it is; anything else
/// is a username, looked up over the API and accepted when exactly one user
/// the token may read has it (usernames are unique per organization only).
///
/// # Errors
/// `Api` `not_found` (no such user) or `failed_precondition` (several), each
/// saying how to find the id; the errors of [`Client::call`].
pub async fn user_id(client: &Client, arg: &str) -> Result<String, ClientError> {
    if uuid::Uuid::parse_str(arg).is_ok() {
        return Ok(arg.to_owned());
    }
    let body = json!({
        "query": {"limit": 2},
        "queries": [{"userNameQuery": {"userName": arg, "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}],
    });
    let res = match client.call(USER_SERVICE, "ListUsers", &body).await {
        Err(ClientError::Api { code, .. }) if code == "invalid_argument" => {
            return Err(ClientError::Api {
                code,
                message: format!(
                    "--user takes a user id or a username, and {arg:?} is neither; run `tessera users list` to find the id"
                ),
            });
        }
        other => other?,
    };
    let users = res.get("result").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    match users {
        [one] => Ok(str_at(one, &["userId"]).to_owned()),
        [] => Err(ClientError::Api {
            code: "not_found".to_owned(),
            message: format!("no user is named {arg}; run `tessera users list` to find the id"),
        }),
        _ => Err(ClientError::Api {
            code: "failed_precondition".to_owned(),
            message: format!(
                "users of several organizations are named {arg}; pass the id instead (run `tessera users list` to find it)"
            ),
        }),
    }
}

/// An `--org` argument as an organization id: an id is taken as it is;
/// anything else is an organization's name, looked up over the API (names are
/// unique in the instance).
///
/// # Errors
/// `Api` `not_found`, saying how to find the id; the errors of [`Client::call`].
pub async fn org_id(client: &Client, arg: &str) -> Result<String, ClientError> {
    if uuid::Uuid::parse_str(arg).is_ok() {
        return Ok(arg.to_owned());
    }
    let body = json!({
        "query": {"limit": 2},
        "queries": [{"nameQuery": {"name": arg, "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}],
    });
    let not_found = || ClientError::Api {
        code: "not_found".to_owned(),
        message: format!(
            "no organization is named {arg:?}; `tessera users list` shows the organization id of every user"
        ),
    };
    let res = match client.call(ORG_SERVICE, "ListOrganizations", &body).await {
        Err(ClientError::Api { code, .. }) if code == "invalid_argument" => return Err(not_found()),
        other => other?,
    };
    match res.get("result").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        [one] => Ok(str_at(one, &["id"]).to_owned()),
        _ => Err(not_found()),
    }
}

/// A fine-grained token's scope in a table cell: `all` for a token with all
/// rights of its user, else how many organizations, projects and permissions
/// it names (`--json` shows them).
fn scope_summary(scope: &Value) -> String {
    let count = |member: &str| scope.get(member).and_then(Value::as_array).map_or(0, Vec::len);
    if scope.is_null() {
        return "all".to_owned();
    }
    let part = |n: usize, one: &str, many: &str, none: &str| match n {
        0 => none.to_owned(),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    let resources = if count("organizationIds") + count("projectIds") == 0 {
        "everywhere".to_owned()
    } else {
        format!(
            "{}, {}",
            part(count("organizationIds"), "org", "orgs", "0 orgs"),
            part(count("projectIds"), "project", "projects", "0 projects")
        )
    };
    let perms = part(count("permissions"), "permission", "permissions", "all permissions");
    format!("{resources}; {perms}")
}

/// The usernames of `ids` (those the token may read), for tables.
async fn usernames(client: &Client, ids: &[&str]) -> std::collections::HashMap<String, String> {
    let mut ids: Vec<&str> = ids.iter().copied().filter(|id| !id.is_empty()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return std::collections::HashMap::new();
    }
    let body = json!({"query": {"limit": ids.len()}, "queries": [{"inUserIdsQuery": {"userIds": ids}}]});
    // Only a nicety: without the names, the table shows the ids.
    let Ok(res) = client.call(USER_SERVICE, "ListUsers", &body).await else { return std::collections::HashMap::new() };
    res.get("result")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|u| (str_at(u, &["userId"]).to_owned(), str_at(u, &["username"]).to_owned()))
        .collect()
}

/// Runs `tessera pats …`.
///
/// # Errors
/// As [`Client::call`].
pub async fn pats(client: &Client, args: &PatsArgs) -> Result<Output, ClientError> {
    let json_out = args.client.json;
    match &args.action {
        PatsAction::Add { user, expires, orgs, projects, permissions, presets, quiet } => {
            let user = &user_id(client, user).await?;
            let mut body = json!({"userId": user});
            if let Some(e) = expires {
                body["expirationDate"] = json!(e.resolve(Utc::now()).to_rfc3339());
            }
            if !(orgs.is_empty() && projects.is_empty() && permissions.is_empty() && presets.is_empty()) {
                let mut org_ids = Vec::with_capacity(orgs.len());
                for org in orgs {
                    org_ids.push(org_id(client, org).await?);
                }
                body["tesseraScope"] = json!({
                    "organizationIds": org_ids,
                    "projectIds": projects,
                    "permissions": permissions,
                    "presets": presets,
                });
            }
            let res = client.call(USER_SERVICE, "AddPersonalAccessToken", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let token = str_at(&res, &["token"]);
            if token.is_empty() {
                return Err(ClientError::Transport(format!("{} returned no token", client.origin())));
            }
            let expiry = match expires {
                Some(e) => format!("expires {}", e.resolve(Utc::now()).format("%Y-%m-%d %H:%M UTC")),
                None => "does not expire".to_owned(),
            };
            Ok(Output {
                stdout: format!("{token}\n"),
                stderr: if *quiet {
                    String::new()
                } else {
                    format!(
                        "personal access token {} for user {user} {expiry}; it is shown once, store it now\n",
                        str_at(&res, &["tokenId"])
                    )
                },
            })
        }
        PatsAction::List { user, limit, offset } => {
            let mut body = json!({"pagination": {"offset": offset.to_string(), "limit": limit, "asc": true}});
            if let Some(user) = user {
                body["filters"] = json!([{"userIdFilter": {"id": user_id(client, user).await?}}]);
            }
            let res = client.call(USER_SERVICE, "ListPersonalAccessTokens", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let pats = res.get("result").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let ids: Vec<&str> = pats.iter().map(|p| str_at(p, &["userId"])).collect();
            let names = usernames(client, &ids).await;
            let rows: Vec<Vec<String>> = pats
                .iter()
                .map(|p| {
                    let user = str_at(p, &["userId"]);
                    vec![
                        str_at(p, &["id"]).to_owned(),
                        names.get(user).cloned().unwrap_or_else(|| user.to_owned()),
                        str_at(p, &["organizationId"]).to_owned(),
                        when(str_at(p, &["creationDate"])),
                        when(str_at(p, &["expirationDate"])),
                        when(str_at(p, &["lastUsedDate"])),
                        scope_summary(&p["tesseraScope"]),
                    ]
                })
                .collect();
            Ok(Output {
                stdout: table(&["ID", "USER", "ORGANIZATION", "CREATED", "EXPIRES", "LAST USED", "SCOPE"], &rows),
                stderr: more_notice(rows.len(), *offset, &res["pagination"]["totalResult"]),
            })
        }
        PatsAction::Remove { user, token } => {
            if token.starts_with("tsr_") {
                // Checked here so the secret is not sent anywhere it does not belong.
                return Err(ClientError::Usage(
                    "--token takes the token's id (see `tessera pats list`), not the token itself".to_owned(),
                ));
            }
            let user = user_id(client, user).await?;
            let res = client
                .call(USER_SERVICE, "RemovePersonalAccessToken", &json!({"userId": user, "tokenId": token}))
                .await?;
            Ok(if json_out {
                Output::json(&res)
            } else {
                Output::out(format!("personal access token {token} no longer exists\n"))
            })
        }
    }
}

/// Sets the key source of a federated credential request from the command
/// line: `jwksUrl`, or `jwks` read from a file; nothing for discovery.
fn set_key_source(body: &mut Value, keys: &KeySourceArgs) -> Result<(), ClientError> {
    if let Some(url) = &keys.jwks_url {
        body["jwksUrl"] = json!(url);
    }
    if let Some(path) = &keys.jwks_file {
        let jwks = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Usage(format!("cannot read --jwks-file {}: {e}", path.display())))?;
        body["jwks"] = json!(jwks.trim());
    }
    Ok(())
}

fn conditions_json(conditions: &[(String, String)]) -> Value {
    conditions.iter().map(|(claim, pattern)| json!({"claim": claim, "pattern": pattern})).collect()
}

/// `tessera federation …` (docs/federation.md).
///
/// # Errors
/// Any [`ClientError`].
pub async fn federation(client: &Client, args: &FederationArgs) -> Result<Output, ClientError> {
    let json_out = args.client.json;
    match &args.action {
        FederationAction::Add { user, name, description, issuer, subject, audience, conditions, keys, quiet } => {
            let user = user_id(client, user).await?;
            let mut body = json!({
                "userId": user, "name": name, "description": description, "issuer": issuer, "subject": subject,
                "audience": audience.clone().unwrap_or_default(), "conditions": conditions_json(conditions),
            });
            set_key_source(&mut body, keys)?;
            let res = client.call(FEDERATION_SERVICE, "AddFederatedCredential", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let id = str_at(&res, &["id"]);
            Ok(if *quiet {
                Output::out(format!("{id}\n"))
            } else {
                Output::out(format!(
                    "federated credential {id} for user {user}: tokens of {issuer} for {subject} with audience {}\n",
                    str_at(&res, &["audience"])
                ))
            })
        }
        FederationAction::List { user } => {
            let user = user_id(client, user).await?;
            let res = client.call(FEDERATION_SERVICE, "ListFederatedCredentials", &json!({"userId": user})).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let list = res.get("result").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    let keys = if c.get("jwksUrl").is_some() {
                        "jwks-url"
                    } else if c.get("jwks").is_some() {
                        "inline"
                    } else {
                        "discovery"
                    };
                    let conditions: Vec<String> = c
                        .get("conditions")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .map(|k| format!("{}={}", str_at(k, &["claim"]), str_at(k, &["pattern"])))
                        .collect();
                    vec![
                        str_at(c, &["id"]).to_owned(),
                        one_line(str_at(c, &["name"])),
                        str_at(c, &["issuer"]).to_owned(),
                        one_line(str_at(c, &["subject"])),
                        keys.to_owned(),
                        one_line(&conditions.join(" ")),
                    ]
                })
                .collect();
            Ok(Output::out(table(&["ID", "NAME", "ISSUER", "SUBJECT", "KEYS", "CONDITIONS"], &rows)))
        }
        FederationAction::Update {
            user,
            id,
            name,
            description,
            issuer,
            subject,
            audience,
            conditions,
            no_conditions,
            discovery,
            keys,
        } => {
            let user = user_id(client, user).await?;
            let mut body = json!({"userId": user, "id": id});
            for (key, value) in [
                ("name", name),
                ("description", description),
                ("issuer", issuer),
                ("subject", subject),
                ("audience", audience),
            ] {
                if let Some(v) = value {
                    body[key] = json!(v);
                }
            }
            if *no_conditions || !conditions.is_empty() {
                body["conditions"] = json!({"conditions": conditions_json(conditions)});
            }
            if *discovery {
                body["discovery"] = json!({});
            }
            set_key_source(&mut body, keys)?;
            let res = client.call(FEDERATION_SERVICE, "UpdateFederatedCredential", &body).await?;
            Ok(if json_out { Output::json(&res) } else { Output::out(format!("federated credential {id} changed\n")) })
        }
        FederationAction::Remove { user, id } => {
            let user = user_id(client, user).await?;
            let res = client
                .call(FEDERATION_SERVICE, "RemoveFederatedCredential", &json!({"userId": user, "id": id}))
                .await?;
            Ok(if json_out {
                Output::json(&res)
            } else {
                Output::out(format!("federated credential {id} no longer exists\n"))
            })
        }
    }
}

/// A webhook delivery as a table row.
fn delivery_row(d: &Value) -> Vec<String> {
    vec![
        str_at(d, &["id"]).to_owned(),
        str_at(d, &["eventType"]).to_owned(),
        when(str_at(d, &["creationDate"])),
        str_at(d, &["status"]).to_owned(),
        d["attempts"].as_u64().unwrap_or(0).to_string(),
        d["lastStatusCode"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned()),
        when(str_at(d, &["nextAttemptDate"])),
        one_line(str_at(d, &["lastError"])),
    ]
}

/// `tessera webhooks …` (docs/pat-hygiene.md "Notifications").
///
/// # Errors
/// Any [`ClientError`].
pub async fn webhooks(client: &Client, args: &WebhooksArgs) -> Result<Output, ClientError> {
    let json_out = args.client.json;
    let list = |res: &Value, key: &str| res.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    match &args.action {
        WebhooksAction::Add { endpoint, events, description, org, instance, quiet } => {
            let mut body = json!({"url": endpoint, "events": events, "description": description, "instance": instance});
            if let Some(org) = org {
                body["organizationId"] = json!(org_id(client, org).await?);
            }
            let res = client.call(WEBHOOK_SERVICE, "CreateWebhook", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let secret = str_at(&res, &["signingSecret"]);
            Ok(Output {
                stdout: format!("{secret}\n"),
                stderr: if *quiet {
                    String::new()
                } else {
                    format!(
                        "webhook {} sends {} to {endpoint}; the signing secret above is shown once, store it now\n",
                        str_at(&res, &["webhook", "id"]),
                        events.join(", ")
                    )
                },
            })
        }
        WebhooksAction::List { org } => {
            let mut body = json!({});
            if let Some(org) = org {
                body["organizationId"] = json!(org_id(client, org).await?);
            }
            let res = client.call(WEBHOOK_SERVICE, "ListWebhooks", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let rows: Vec<Vec<String>> = list(&res, "result")
                .iter()
                .map(|w| {
                    let events: Vec<&str> = w["events"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    let org = str_at(w, &["organizationId"]);
                    vec![
                        str_at(w, &["id"]).to_owned(),
                        if org.is_empty() { "(instance)".to_owned() } else { org.to_owned() },
                        str_at(w, &["url"]).to_owned(),
                        events.join(","),
                        if w["active"].as_bool().unwrap_or(false) { "active" } else { "disabled" }.to_owned(),
                    ]
                })
                .collect();
            Ok(Output::out(table(&["ID", "ORGANIZATION", "URL", "EVENTS", "STATE"], &rows)))
        }
        WebhooksAction::Update { id, endpoint, description, events, enable, disable } => {
            let mut body = json!({"id": id, "events": events});
            if let Some(url) = endpoint {
                body["url"] = json!(url);
            }
            if let Some(d) = description {
                body["description"] = json!(d);
            }
            if *enable || *disable {
                body["active"] = json!(*enable);
            }
            let res = client.call(WEBHOOK_SERVICE, "UpdateWebhook", &body).await?;
            Ok(if json_out { Output::json(&res) } else { Output::out(format!("webhook {id} changed\n")) })
        }
        WebhooksAction::RotateSecret { id } => {
            let res = client.call(WEBHOOK_SERVICE, "RotateWebhookSecret", &json!({"id": id})).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            Ok(Output {
                stdout: format!("{}\n", str_at(&res, &["signingSecret"])),
                stderr: format!("webhook {id} signs with the secret above from now on; it is shown once\n"),
            })
        }
        WebhooksAction::Remove { id } => {
            let res = client.call(WEBHOOK_SERVICE, "DeleteWebhook", &json!({"id": id})).await?;
            Ok(if json_out { Output::json(&res) } else { Output::out(format!("webhook {id} no longer exists\n")) })
        }
        WebhooksAction::Deliveries { id, status, limit } => {
            let body = json!({"webhookId": id, "status": status.clone().unwrap_or_default(), "limit": limit});
            let res = client.call(WEBHOOK_SERVICE, "ListWebhookDeliveries", &body).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let rows: Vec<Vec<String>> = list(&res, "result").iter().map(delivery_row).collect();
            Ok(Output::out(table(
                &["ID", "EVENT", "CREATED", "STATUS", "ATTEMPTS", "LAST CODE", "NEXT ATTEMPT", "LAST ERROR"],
                &rows,
            )))
        }
        WebhooksAction::Attempts { delivery } => {
            let res = client.call(WEBHOOK_SERVICE, "GetWebhookDelivery", &json!({"id": delivery})).await?;
            if json_out {
                return Ok(Output::json(&res));
            }
            let rows: Vec<Vec<String>> = list(&res, "attempts")
                .iter()
                .map(|a| {
                    vec![
                        a["number"].as_u64().unwrap_or(0).to_string(),
                        when(str_at(a, &["attemptDate"])),
                        a["statusCode"].as_u64().map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned()),
                        format!("{} ms", a["durationMs"].as_u64().unwrap_or(0)),
                        one_line(str_at(a, &["error"])),
                    ]
                })
                .collect();
            Ok(Output::out(table(&["#", "ATTEMPTED", "CODE", "DURATION", "ERROR"], &rows)))
        }
        WebhooksAction::Resend { delivery } => {
            let res = client.call(WEBHOOK_SERVICE, "ResendWebhookDelivery", &json!({"id": delivery})).await?;
            Ok(if json_out {
                Output::json(&res)
            } else {
                Output::out(format!("delivery {delivery} is sent again now\n"))
            })
        }
    }
}

/// Runs a client command to completion; `env_token` is the value of
/// `TESSERA_TOKEN`.
///
/// # Errors
/// Any [`ClientError`].
pub fn run(command: &ClientCommand, env_token: Option<String>) -> Result<Output, ClientError> {
    let args = command.client_args();
    let token = read_token(args.token_file.as_deref(), env_token)?;
    let client = Client::new(&args.url, token)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Transport(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        match command {
            ClientCommand::Users(a) => users(&client, a).await,
            ClientCommand::Pats(a) => pats(&client, a).await,
            ClientCommand::Federation(a) => federation(&client, a).await,
            ClientCommand::Webhooks(a) => webhooks(&client, a).await,
        }
    })
}

/// Writes an [`Output`]; standard output first, flushed, so a notice never
/// interleaves with a token.
///
/// # Errors
/// When standard output is closed.
pub fn emit(output: &Output) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(output.stdout.as_bytes())?;
    out.flush()?;
    if !output.stderr.is_empty() {
        eprint!("{}", output.stderr);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_and_trim_line_ends() {
        let t = table(&["ID", "NAME"], &[vec!["1".into(), "alpha".into()], vec!["200".into(), "b".into()]]);
        assert_eq!(t, "ID   NAME\n1    alpha\n200  b\n");
    }

    #[test]
    fn the_token_comes_from_the_file_before_the_environment_and_is_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pat");
        std::fs::write(&file, "  tsr_pat_file\n").unwrap();
        let t = read_token(Some(&file), Some("tsr_pat_env".into())).unwrap();
        assert_eq!(t.expose_secret(), "tsr_pat_file");
        assert_eq!(read_token(None, Some("tsr_pat_env\n".into())).unwrap().expose_secret(), "tsr_pat_env");

        std::fs::write(&file, "tsr_pat_one tsr_pat_two").unwrap();
        let e = read_token(Some(&file), None).unwrap_err();
        assert_eq!(e.exit_code(), EXIT_USAGE);
        assert!(!e.to_string().contains("tsr_pat"), "{e}");
        assert_eq!(read_token(None, None).unwrap_err().exit_code(), EXIT_USAGE);
        assert_eq!(read_token(None, Some("  ".into())).unwrap_err().exit_code(), EXIT_USAGE);
    }

    #[test]
    fn urls_must_be_http() {
        for bad in ["localhost:8080", "ftp://x", "mailto:a@b", ""] {
            assert!(Client::new(bad, SecretString::from("t")).is_err(), "{bad}");
        }
        let e = Client::new("https://user:pw@id.example.com", SecretString::from("t")).err().unwrap();
        assert!(!e.to_string().contains("pw"), "{e}");
        let c = Client::new("https://id.example.com:8443/base", SecretString::from("t")).unwrap();
        assert_eq!(c.origin(), "https://id.example.com:8443");
        assert_eq!(c.base.as_str(), "https://id.example.com:8443/base/");
    }

    #[test]
    fn far_future_expirations_read_never() {
        assert_eq!(when("9999-12-31T23:59:59Z"), "never");
        assert_eq!(when(""), "-");
        assert_eq!(when("2030-01-01T00:00:00Z"), "2030-01-01T00:00:00Z");
    }
}
