//! The `tessera` binary's library half: configuration, start-up, bootstrap,
//! wiring, and the API client behind the `users`/`pats` commands. `main.rs` only parses the command line and turns errors into exit
//! codes; everything here is testable.

pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod files;
pub mod logging;
pub mod masterkey;
pub mod ops;
pub mod settings;
pub mod start;
