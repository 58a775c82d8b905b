//! `tessera`: parses the command line, loads the configuration and runs the
//! requested command. Operator mistakes end the process with one line on
//! standard error and a non-zero exit code, never a panic. The client commands
//! (`users`, `pats`) talk to a running server and read no server configuration.

use std::process::ExitCode;

use clap::Parser;
use tessera_server::cli::{Cli, ClientCommand, Command, ServerCommand};
use tessera_server::client;
use tessera_server::ops::{self, OpsError};
use tessera_server::settings::{self, Settings};
use tessera_server::{logging, start};

/// Exit code for configuration errors (the same as clap's usage errors).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Client(command) => return run_client(&command),
        Command::Server(command) => command,
    };
    let config = cli.config.clone().or_else(|| command.config().map(std::path::Path::to_path_buf));
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tessera: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = logging::init(&settings.log) {
        eprintln!("tessera: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    for warning in settings::unknown_variables(&std::env::vars().collect()) {
        tracing::warn!("{warning}");
    }
    let result = actix_web::rt::System::new().block_on(async move {
        match command {
            ServerCommand::Start { .. } => start::start(settings).await.map_err(OpsError::from),
            ServerCommand::Migrate { action, check, .. } => {
                start::migrate(&settings, action, check).await.map_err(OpsError::from)
            }
            ServerCommand::Backup { file, .. } => ops::backup(&settings, &file).await,
            ServerCommand::Keys { action, .. } => ops::keys(&settings, &action).await,
            ServerCommand::Masterkey { action, .. } => ops::masterkey(&settings, &action).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a client command: its output, or one line on standard error.
fn run_client(command: &ClientCommand) -> ExitCode {
    match client::run(command, std::env::var(client::TOKEN_ENV).ok()) {
        Ok(output) => match client::emit(&output) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tessera: cannot write the output: {e}");
                ExitCode::from(client::EXIT_FAILURE)
            }
        },
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
