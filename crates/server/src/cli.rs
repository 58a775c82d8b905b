//! The command line of `tessera`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Tessera: identity and access for service users, wire-compatible with ZITADEL.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML); environment variables TESSERA_* override it.
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, bootstrap an empty instance, and serve.
    Start,
    /// Manage the database schema.
    Migrate {
        /// up (default), down, status or fresh.
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
        /// With `up`: only report pending migrations; exit 1 when there are any.
        #[arg(long)]
        check: bool,
    },
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
