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
    std::panic::set_hook(Box::new(log_panic));
    Ok(())
}

/// Logs a panic as one error line instead of the default hook's message and
/// backtrace on standard error. A panic in a handler happens inside the
/// request's span, so the line carries the request id; the HTTP layer answers
/// that request with a 500 (`tessera_http::observe`).
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let location = info.location().map(ToString::to_string).unwrap_or_default();
    tracing::error!(%location, message, "panic");
}
