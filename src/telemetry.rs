//! Log output: readable text by default, JSON on request, filtered by
//! `RUST_LOG` directives (default `info`).

use std::error::Error;
use std::io::IsTerminal as _;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event, with the span's fields.
    Json,
}

/// Installs the global subscriber, writing to standard error.
pub fn init(format: LogFormat) {
    // sqlx relays PostgreSQL's notices ("relation ... already exists,
    // skipping" at every start) at INFO: keep them out of the default.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

/// `error` and its causes as one line, `a: b: c`. A cause whose text the
/// line already holds (drivers often repeat their source's message) is
/// left out.
pub fn error_chain(error: &dyn Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        source: Option<Box<Layer>>,
    }

    fn layer(text: &'static str, source: Option<Layer>) -> Layer {
        Layer {
            text,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn a_chain_reads_outside_in_and_skips_repeated_causes() {
        let inner = layer("unable to open database file", None);
        let driver = layer(
            "Connection Error: unable to open database file",
            Some(inner),
        );
        let outer = layer("database sqlite://x.db", Some(driver));
        assert_eq!(
            error_chain(&outer),
            "database sqlite://x.db: Connection Error: unable to open database file"
        );
    }
}
