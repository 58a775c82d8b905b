//! Structured logging with `tracing`: human-readable lines by default, one JSON
//! object per line with `TESSERA_LOG__FORMAT=json`. Logs go to standard error;
//! standard output carries only the "listening on" line.

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber. Call once, before anything logs.
///
/// # Errors
/// When `level` is not a valid filter (reported with the key that holds it).
pub fn init(settings: &LogSettings) -> Result<(), String> {
    let filter = EnvFilter::try_new(&settings.level)
        .map_err(|e| format!("invalid configuration log.level (TESSERA_LOG__LEVEL): {e}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match settings.format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).flatten_event(true).try_init(),
    };
    // A second init (tests) is harmless.
    let _ = result;
    Ok(())
}
