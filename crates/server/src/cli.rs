//! The command line of `tessera`: the server commands (`start`, `migrate`,
//! `backup`, `keys`, `masterkey`) and the client commands (`users`, `pats`)
//! that drive a running server over its API.

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use tessera_domain::signing_key::SigningAlgorithm;

/// Tessera: identity and access for service users (machine accounts),
/// wire-compatible with ZITADEL.
///
/// Your scripts, CI jobs and daemons authenticate with Personal Access Tokens,
/// JWT key files or client secrets; your APIs check those tokens by
/// introspection. Start with `tessera start`: it listens on
/// http://127.0.0.1:8080, writes the admin's token to tessera-data/admin.pat, and
/// serves the web console at /ui/console/. Then try
/// `tessera users list --token-file tessera-data/admin.pat`.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML) of the server commands; environment variables
    /// TESSERA_* override it.
    #[arg(long, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Commands that run the server or work on its database.
    #[command(flatten)]
    Server(ServerCommand),
    /// Commands that talk to a running server over its API.
    #[command(flatten)]
    Client(ClientCommand),
}

/// The configuration file option of the server commands (also accepted
/// before the command: `tessera --config FILE start`). The client commands do
/// not have it: they read no server configuration.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArg {
    /// Configuration file (TOML); environment variables TESSERA_* override it.
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Commands that run the server or work on its database; they read the server
/// configuration.
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Migrate the database, bootstrap an empty instance, and serve.
    Start {
        /// Configuration.
        #[command(flatten)]
        cfg: ConfigArg,
    },
    /// Manage the database schema.
    Migrate {
        /// up (default), down, status or fresh.
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
        /// With `up`: only report pending migrations; exit 1 when there are any.
        #[arg(long)]
        check: bool,
        /// Configuration.
        #[command(flatten)]
        cfg: ConfigArg,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server
    /// may keep running (PostgreSQL: use pg_dump). The master key is not in it.
    Backup {
        /// The new backup file; it must not exist.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Configuration.
        #[command(flatten)]
        cfg: ConfigArg,
    },
    /// Instance signing keys (they sign JWT access tokens and ID tokens).
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeysAction,
        /// Configuration.
        #[command(flatten)]
        cfg: ConfigArg,
    },
    /// The master key that seals the signing keys at rest.
    Masterkey {
        /// What to do.
        #[command(subcommand)]
        action: MasterkeyAction,
        /// Configuration.
        #[command(flatten)]
        cfg: ConfigArg,
    },
}

impl ServerCommand {
    /// The configuration file given after the command name.
    #[must_use]
    pub fn config(&self) -> Option<&std::path::Path> {
        match self {
            Self::Start { cfg }
            | Self::Migrate { cfg, .. }
            | Self::Backup { cfg, .. }
            | Self::Keys { cfg, .. }
            | Self::Masterkey { cfg, .. } => cfg.config.as_deref(),
        }
    }
}

/// `tessera keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// List the signing keys and their schedules (never private material).
    List,
    /// Create a signing key that takes over signing; older keys stay published
    /// until every token they signed has expired.
    Rotate {
        /// When the new key starts signing: now (default), a duration from now
        /// (`12h`, `1d`) or a date or RFC 3339 time. It is published at once.
        #[arg(long, value_parser = parse_expiry, value_name = "WHEN")]
        sign_from: Option<Expiry>,
        /// The new key's kind (default: `signing_keys.algorithm`).
        #[command(flatten)]
        kind: KeyKindArgs,
    },
    /// Create a key that is published at once and signs only once activated
    /// (ZITADEL's CreateWebKey).
    Create {
        /// The key's kind (default: `signing_keys.algorithm`).
        #[command(flatten)]
        kind: KeyKindArgs,
    },
    /// Make a key sign from now on; the previous one stays published until
    /// every token it signed has expired (ZITADEL's ActivateWebKey).
    Activate {
        /// The key's id (`KID` in `tessera keys list`).
        kid: String,
    },
    /// Delete a key that does not sign now: it leaves the JWKS and tokens it
    /// signed stop verifying (ZITADEL's DeleteWebKey).
    Delete {
        /// The key's id (`KID` in `tessera keys list`).
        kid: String,
    },
}

/// The kind of a new signing key.
#[derive(Debug, Clone, Args)]
pub struct KeyKindArgs {
    /// RS256, RS384, RS512, ES256, ES384 or EdDSA.
    #[arg(long, value_parser = parse_algorithm, value_name = "ALG")]
    pub algorithm: Option<SigningAlgorithm>,
    /// RSA modulus size: 2048, 3072 or 4096 (default: `signing_keys.rsa_bits`).
    #[arg(long, value_name = "BITS")]
    pub rsa_bits: Option<usize>,
}

fn parse_algorithm(s: &str) -> Result<SigningAlgorithm, String> {
    SigningAlgorithm::parse(s.trim()).map_err(|_| "expected RS256, RS384, RS512, ES256, ES384 or EdDSA".to_owned())
}

/// `tessera masterkey …`.
#[derive(Debug, Subcommand)]
pub enum MasterkeyAction {
    /// Re-seal every signing key under a new master key, in one transaction.
    /// Then put the new key in place on every node and restart them.
    Rotate {
        /// File holding the new master key (at least 32 characters, e.g.
        /// `openssl rand -hex 32`).
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
}

/// Commands that talk to a running server over its API; they read no server
/// configuration.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Service users of a running server (over its API).
    Users(UsersArgs),
    /// Personal access tokens of a running server (over its API).
    Pats(PatsArgs),
    /// Federated credentials of machine users: external identity tokens
    /// (GitHub Actions, Kubernetes, GitLab CI) they accept in place of a
    /// secret (over the API; docs/federation.md).
    Federation(Box<FederationArgs>),
    /// Event webhook targets and their deliveries (over the API;
    /// docs/pat-hygiene.md "Notifications").
    Webhooks(Box<WebhooksArgs>),
}

impl ClientCommand {
    /// How to reach the server.
    #[must_use]
    pub fn client_args(&self) -> &ClientArgs {
        match self {
            Self::Users(a) => &a.client,
            Self::Pats(a) => &a.client,
            Self::Federation(a) => &a.client,
            Self::Webhooks(a) => &a.client,
        }
    }
}

/// Schema actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the most recent migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Drop everything and migrate from scratch (destroys all data).
    Fresh,
}

/// How the client commands reach and authenticate to a server.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Base URL of the server.
    #[arg(
        long,
        global = true,
        env = "TESSERA_EXTERNAL_URL",
        default_value = "http://localhost:8080",
        value_name = "URL"
    )]
    pub url: String,
    /// File holding the Personal Access Token to authenticate with; without it,
    /// the token is read from the environment variable TESSERA_TOKEN.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Print the server's JSON response instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `tessera users …`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    /// Server and credentials.
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: UsersAction,
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create a machine user (service account).
    CreateMachine {
        /// Organization: its id, or its name.
        #[arg(long, value_name = "ORG")]
        org: String,
        /// Login name, unique in the organization.
        #[arg(long)]
        username: String,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// What the token endpoint issues to it.
        #[arg(long, value_enum, default_value_t = AccessTokenTypeArg::Bearer)]
        access_token_type: AccessTokenTypeArg,
        /// Print only the new user's id.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List the users the token may read.
    List {
        /// Only users of this organization (its id, or its name).
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
        /// At most this many rows (the server allows up to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Skip this many rows.
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
}

/// `--access-token-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessTokenTypeArg {
    /// Opaque bearer tokens.
    Bearer,
    /// Signed JWTs.
    Jwt,
}

impl AccessTokenTypeArg {
    /// The wire name.
    #[must_use]
    pub const fn wire(self) -> &'static str {
        match self {
            Self::Bearer => "ACCESS_TOKEN_TYPE_BEARER",
            Self::Jwt => "ACCESS_TOKEN_TYPE_JWT",
        }
    }
}

/// `tessera pats …`.
#[derive(Debug, Args)]
pub struct PatsArgs {
    /// Server and credentials.
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: PatsAction,
}

/// Personal access token commands.
#[derive(Debug, Subcommand)]
pub enum PatsAction {
    /// Issue a token to a machine user. The token is printed once, alone, on
    /// standard output.
    Add {
        /// The machine user: its id, or its username when one user has it.
        #[arg(long, value_name = "USER")]
        user: String,
        /// Expiration: a duration from now (`12h`, `30d`, `8w`), a date
        /// (`2030-01-01`, midnight UTC) or an RFC 3339 time. Default: none.
        #[arg(long, value_parser = parse_expiry, value_name = "WHEN")]
        expires: Option<Expiry>,
        /// Limit the token to this organization (id or name) and its
        /// projects; repeatable. Any of --org, --project, --permission or
        /// --preset makes a fine-grained token (docs/pat-hygiene.md).
        #[arg(long = "org", value_name = "ORG")]
        orgs: Vec<String>,
        /// Limit the token to this project (id); repeatable.
        #[arg(long = "project", value_name = "PROJECT_ID")]
        projects: Vec<String>,
        /// A permission the token carries (`user.read`, `project.write`, …);
        /// repeatable. Without any, it carries all of its user's.
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
        /// A named set of permissions: read-only, user-manager or
        /// project-manager; repeatable.
        #[arg(long = "preset", value_name = "PRESET")]
        presets: Vec<String>,
        /// Print nothing but the token (no notice on standard error).
        #[arg(long, short)]
        quiet: bool,
    },
    /// List tokens (never their secrets).
    List {
        /// Only the tokens of this user (id, or username when one user has it).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// At most this many rows (the server allows up to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Skip this many rows.
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Remove a token; it stops working at once.
    Remove {
        /// The user the token belongs to (id, or username when one user has it).
        #[arg(long, value_name = "USER")]
        user: String,
        /// The token's id (from `pats list`), not the token itself.
        #[arg(long, value_name = "TOKEN_ID")]
        token: String,
    },
}

/// `tessera federation …`.
#[derive(Debug, Args)]
pub struct FederationArgs {
    /// Server and credentials.
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: FederationAction,
}

/// Where a federated credential's keys come from, on the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct KeySourceArgs {
    /// The issuer's JWKS URL, for an issuer without OpenID Connect discovery.
    #[arg(long, value_name = "URL", conflicts_with = "jwks_file")]
    pub jwks_url: Option<String>,
    /// A file holding the issuer's JWKS (public keys), for an issuer Tessera
    /// cannot reach, such as a private cluster's.
    #[arg(long, value_name = "FILE")]
    pub jwks_file: Option<PathBuf>,
}

/// Federated credential commands.
#[derive(Debug, Subcommand)]
pub enum FederationAction {
    /// Trust a token issuer for a machine user.
    Add {
        /// The machine user: its id, or its username when one user has it.
        #[arg(long, value_name = "USER")]
        user: String,
        /// A name for people.
        #[arg(long)]
        name: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The issuer (`iss`), e.g. https://token.actions.githubusercontent.com.
        #[arg(long, value_name = "URL")]
        issuer: String,
        /// The exact subject (`sub`), e.g. repo:acme/deploy:environment:production.
        #[arg(long)]
        subject: String,
        /// The audience the token must name (default: the server's issuer URL).
        #[arg(long)]
        audience: Option<String>,
        /// A condition on another claim, CLAIM=PATTERN (`*` matches any run of
        /// characters); repeat for more, all must hold.
        #[arg(long = "condition", value_name = "CLAIM=PATTERN", value_parser = parse_condition)]
        conditions: Vec<(String, String)>,
        /// Where the keys come from (default: the issuer's discovery document).
        #[command(flatten)]
        keys: KeySourceArgs,
        /// Print only the new credential's id.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List a user's federated credentials.
    List {
        /// The machine user: its id, or its username when one user has it.
        #[arg(long, value_name = "USER")]
        user: String,
    },
    /// Change a federated credential: the options given replace the stored values.
    Update {
        /// The machine user: its id, or its username when one user has it.
        #[arg(long, value_name = "USER")]
        user: String,
        /// The credential's id (from `federation list`).
        #[arg(long, value_name = "ID")]
        id: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New issuer.
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
        /// New subject.
        #[arg(long)]
        subject: Option<String>,
        /// New audience.
        #[arg(long)]
        audience: Option<String>,
        /// New conditions, CLAIM=PATTERN, replacing all of them.
        #[arg(long = "condition", value_name = "CLAIM=PATTERN", value_parser = parse_condition)]
        conditions: Vec<(String, String)>,
        /// Remove every condition.
        #[arg(long, conflicts_with = "conditions")]
        no_conditions: bool,
        /// Use the issuer's discovery document for its keys again.
        #[arg(long, conflicts_with_all = ["jwks_url", "jwks_file"])]
        discovery: bool,
        /// New key source.
        #[command(flatten)]
        keys: KeySourceArgs,
    },
    /// Stop trusting an issuer; its tokens are refused at once.
    Remove {
        /// The machine user: its id, or its username when one user has it.
        #[arg(long, value_name = "USER")]
        user: String,
        /// The credential's id (from `federation list`).
        #[arg(long, value_name = "ID")]
        id: String,
    },
}

/// `tessera webhooks …`.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// Server and credentials.
    #[command(flatten)]
    pub client: ClientArgs,
    /// What to do.
    #[command(subcommand)]
    pub action: WebhooksAction,
}

/// Webhook commands.
#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Create a target; its signing secret is printed once.
    Add {
        /// Where deliveries go (https; http and private addresses only for
        /// hosts on the server's webhooks.allow_hosts). Not `--url`, which
        /// names the Tessera server.
        #[arg(long, value_name = "URL")]
        endpoint: String,
        /// An event to send (credential.expiring, credential.expired,
        /// credential.leaked, pat.created, pat.removed, user.deactivated);
        /// repeat for more.
        #[arg(long = "event", value_name = "EVENT", required = true)]
        events: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// The organization whose events it receives: id or name (default:
        /// the token's own).
        #[arg(long, value_name = "ORG", conflicts_with = "instance")]
        org: Option<String>,
        /// Receive every organization's events (takes the instance owner).
        #[arg(long)]
        instance: bool,
        /// Print only the signing secret.
        #[arg(long, short)]
        quiet: bool,
    },
    /// List targets.
    List {
        /// Only this organization's: id or name.
        #[arg(long, value_name = "ORG")]
        org: Option<String>,
    },
    /// Change a target: the options given replace the stored values.
    Update {
        /// The target's id (from `webhooks list`).
        #[arg(long, value_name = "ID")]
        id: String,
        /// New delivery URL.
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New events, replacing all of them; repeat for more.
        #[arg(long = "event", value_name = "EVENT")]
        events: Vec<String>,
        /// Send events again.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Stop sending events (deliveries queued meanwhile fail, and can be resent).
        #[arg(long)]
        disable: bool,
    },
    /// Give a target a new signing secret, printed once; the old one stops at once.
    RotateSecret {
        /// The target's id.
        #[arg(long, value_name = "ID")]
        id: String,
    },
    /// Remove a target and its deliveries.
    Remove {
        /// The target's id.
        #[arg(long, value_name = "ID")]
        id: String,
    },
    /// A target's recent deliveries, newest first.
    Deliveries {
        /// The target's id.
        #[arg(long, value_name = "ID")]
        id: String,
        /// Only pending, delivered or failed ones.
        #[arg(long)]
        status: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// The attempts of one delivery.
    Attempts {
        /// The delivery's id (from `webhooks deliveries`).
        #[arg(long, value_name = "ID")]
        delivery: String,
    },
    /// Send a delivered or failed delivery again, now.
    Resend {
        /// The delivery's id.
        #[arg(long, value_name = "ID")]
        delivery: String,
    },
}

/// `CLAIM=PATTERN`.
fn parse_condition(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((claim, pattern)) if !claim.is_empty() && !pattern.is_empty() => {
            Ok((claim.to_owned(), pattern.to_owned()))
        }
        _ => Err("expected CLAIM=PATTERN, e.g. ref=refs/heads/main".to_owned()),
    }
}

/// An expiration given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// This long after the request.
    In(Duration),
    /// At this instant.
    At(DateTime<Utc>),
}

impl Expiry {
    /// The instant, relative durations counted from `now`.
    #[must_use]
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::In(d) => now + d,
            Self::At(t) => t,
        }
    }
}

/// Parses `--expires`: `<n>h`, `<n>d`, `<n>w`, `YYYY-MM-DD` or RFC 3339.
///
/// # Errors
/// A sentence saying which forms are accepted.
pub fn parse_expiry(s: &str) -> Result<Expiry, String> {
    const FORMS: &str = "expected a duration like 30d, 12h or 8w, a date like 2030-01-01, or an RFC 3339 time";
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Expiry::At(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Expiry::At(d.and_hms_opt(0, 0, 0).ok_or(FORMS)?.and_utc()));
    }
    let split = s.len().checked_sub(1).filter(|&i| s.is_char_boundary(i)).ok_or(FORMS)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok().filter(|n| *n > 0).ok_or(FORMS)?;
    let d = match unit {
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    };
    d.map(Expiry::In).ok_or_else(|| FORMS.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_accepts_durations_dates_and_timestamps() {
        assert_eq!(parse_expiry("30d"), Ok(Expiry::In(Duration::days(30))));
        assert_eq!(parse_expiry("12h"), Ok(Expiry::In(Duration::hours(12))));
        assert_eq!(parse_expiry("2w"), Ok(Expiry::In(Duration::weeks(2))));
        let midnight = "2030-01-01T00:00:00Z".parse::<DateTime<Utc>>().ok();
        assert_eq!(parse_expiry("2030-01-01").ok(), midnight.map(Expiry::At));
        assert_eq!(parse_expiry("2030-01-01T02:00:00+02:00").ok(), midnight.map(Expiry::At));
        for bad in ["", "d", "0d", "-3d", "30", "30y", "tomorrow", "2030-13-01", "ß"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    fn help(args: &[&str]) -> String {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        let mut args = args.to_vec();
        args.push("--help");
        match cmd.try_get_matches_from_mut(std::iter::once("tessera").chain(args)) {
            Err(e) => e.render().to_string(),
            Ok(_) => String::new(),
        }
    }

    #[test]
    fn help_opens_with_what_tessera_is_for_a_user() {
        let top = help(&[]);
        assert!(top.starts_with("Tessera: identity and access for service users"), "{top}");
        assert!(top.contains("tessera start"), "{top}");
    }

    #[test]
    fn only_the_server_commands_offer_config() {
        for server in [&["start"][..], &["migrate"], &["backup"], &["keys", "rotate"], &["masterkey", "rotate"]] {
            assert!(help(server).contains("--config"), "{server:?}");
        }
        for client in [&["users"][..], &["users", "list"], &["pats", "add"], &["pats", "list"]] {
            assert!(!help(client).contains("--config"), "{client:?}: {}", help(client));
        }
        for args in [
            &["start", "--config", "t.toml"][..],
            &["--config", "t.toml", "backup", "b.db"],
            &["keys", "rotate", "--config", "t.toml"],
        ] {
            let cli = Cli::try_parse_from(std::iter::once("tessera").chain(args.iter().copied())).unwrap();
            let Command::Server(cmd) = cli.command else { panic!("{args:?}") };
            let file = cli.config.as_deref().or_else(|| cmd.config());
            assert_eq!(file, Some(std::path::Path::new("t.toml")), "{args:?}");
        }
    }
}
