//! The command line. Every `serve` option can also come from an environment
//! variable `STRONGROOM_<OPTION>`; a flag given on the command line wins.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// The default database: a SQLite file in the working directory
/// (`mode=rwc` creates it when missing).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://strongroom.db?mode=rwc";

/// Where `serve --dev` keeps its files unless `--dev-dir` says otherwise.
pub const DEFAULT_DEV_DIR: &str = "strongroom-dev";

/// strongroom keeps the third-party credentials that LLM evaluators use.
#[derive(Debug, Parser)]
#[command(name = "strongroom", version, about)]
pub struct Cli {
    /// How log lines are written. Which lines are written is set by
    /// RUST_LOG directives (`info` when unset).
    #[arg(
        long,
        global = true,
        env = "STRONGROOM_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the secrets service.
    Serve(ServeArgs),
    /// Write a new key-encryption key file, readable by its owner only.
    Keygen {
        /// Where to write it; an existing file is never overwritten.
        path: PathBuf,
    },
    /// Apply database migrations, then exit.
    Migrate {
        /// The database, as a SeaORM URL.
        #[arg(long, env = "STRONGROOM_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Run the reference evaluator registry, answering from a JSON file.
    DevRegistry {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50052")]
        listen: SocketAddr,
        /// JSON object mapping secret resource names to attached instances;
        /// read again on every call.
        #[arg(long)]
        attachments: PathBuf,
    },
}

/// Options of `strongroom serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. strongroom has no authentication yet: keep it
    /// on loopback.
    #[arg(long, env = "STRONGROOM_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// The database, as a SeaORM URL (`sqlite://file?mode=rwc`, `postgres://...`).
    #[arg(long, env = "STRONGROOM_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// File holding the key-encryption key (base64 of 32 bytes, mode 600).
    /// Without it, the key is read from STRONGROOM_KEY.
    #[arg(long, env = "STRONGROOM_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    /// URL of the evaluator registry asked before every delete.
    #[arg(long, env = "STRONGROOM_REGISTRY")]
    pub registry: Option<String>,

    /// How long to wait for the registry before refusing a delete.
    #[arg(long, env = "STRONGROOM_REGISTRY_DEADLINE", default_value = "2s",
          value_parser = humantime::parse_duration)]
    pub registry_deadline: Duration,

    /// Delete without asking any registry. Not with --registry or --dev.
    #[arg(long, env = "STRONGROOM_UNCHECKED_DELETES", value_parser = BoolishValueParser::new())]
    pub unchecked_deletes: bool,

    /// After SIGTERM or Ctrl-C, how long in-flight calls may take before
    /// the process stops anyway. A second signal stops it at once.
    #[arg(long, env = "STRONGROOM_SHUTDOWN_GRACE", default_value = "30s",
          value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// Development mode: generate a key file if none exists and run the
    /// reference registry in-process, both under --dev-dir. Not with
    /// --registry or --unchecked-deletes.
    #[arg(long, env = "STRONGROOM_DEV", value_parser = BoolishValueParser::new())]
    pub dev: bool,

    /// Where development mode keeps its key and attachments files
    /// [default: strongroom-dev]. Only with --dev.
    #[arg(long, env = "STRONGROOM_DEV_DIR")]
    pub dev_dir: Option<PathBuf>,
}

impl ServeArgs {
    /// Checks the combinations of options that exclude each other, and
    /// values clap cannot judge alone. Done here rather than by clap, which
    /// counts a switch set to `false` in the environment as given.
    pub fn check(&self) -> Result<(), String> {
        let registry = self.registry.is_some();
        if self.dev && registry {
            return Err("--dev runs its own registry: drop --registry".to_owned());
        }
        if self.dev && self.unchecked_deletes {
            return Err("--dev checks deletes with its own registry: drop \
                        --unchecked-deletes"
                .to_owned());
        }
        if registry && self.unchecked_deletes {
            return Err("--unchecked-deletes means no registry: drop one of \
                        --registry and --unchecked-deletes"
                .to_owned());
        }
        if self.dev_dir.is_some() && !self.dev {
            return Err("--dev-dir applies only with --dev".to_owned());
        }
        if self.registry_deadline.is_zero() {
            return Err("--registry-deadline must be longer than 0s".to_owned());
        }
        Ok(())
    }

    /// The folder of development mode's files.
    pub fn dev_dir(&self) -> &Path {
        self.dev_dir
            .as_deref()
            .unwrap_or(Path::new(DEFAULT_DEV_DIR))
    }
}
