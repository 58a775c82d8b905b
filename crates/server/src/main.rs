//! `tessera`: parses the command line, loads the configuration and runs the
//! requested command. Operator mistakes end the process with one line on
//! standard error and a non-zero exit code, never a panic.

use std::process::ExitCode;

use clap::Parser;
use tessera_server::cli::{Cli, Command};
use tessera_server::settings::Settings;
use tessera_server::{logging, start};

/// Exit code for configuration errors (the same as clap's usage errors).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
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
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Start => start::start(settings).await,
            Command::Migrate { action, check } => start::migrate(&settings, action, check).await,
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
