//! Assembling the service from `serve`'s options and running it until a
//! signal: key provider, database, delete policy, listener.

use std::fs;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cli::ServeArgs;
use crate::crypto::{Envelope, LocalKeyError, LocalKeyProvider, write_new_key_file};
use crate::registry::{DeletePolicy, RegistryClient, RegistryError, dev_server};
use crate::server::{self, ServeError};
use crate::service::SecretService;
use crate::store::{self, SecretStore};

/// The environment variable that may hold the key-encryption key (base64).
pub const KEY_ENV: &str = "STRONGROOM_KEY";

/// An attachments file for development mode, so the quickstart can show a
/// refused delete.
const DEV_ATTACHMENTS: &str = r#"{
  "tenants/acme/secrets/openai-key": [
    {"name": "evaluators/nightly-relevance", "display_name": "Nightly relevance"}
  ]
}
"#;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// No key-encryption key was given.
    #[error("no key-encryption key: pass --key-file, set {KEY_ENV}, or use --dev")]
    NoKey,
    /// The key could not be loaded or generated.
    #[error(transparent)]
    Key(#[from] LocalKeyError),
    /// The database could not be opened or migrated.
    #[error("database {url}{hint}")]
    Database {
        /// The database URL, password hidden.
        url: String,
        /// A suggestion, or nothing.
        hint: &'static str,
        /// What the driver said.
        source: sea_orm::DbErr,
    },
    /// Stored secrets were written under another key-encryption key.
    #[error(
        "the database holds secrets wrapped by key-encryption key(s) {found:?}, but the key \
         given is {current:?}: start with the key they were written under (with --dev, the \
         kek.key of the --dev-dir the database was first used with)"
    )]
    ForeignKeys {
        /// The id of the key this process holds.
        current: String,
        /// Other key ids found in storage.
        found: Vec<String>,
    },
    /// The store failed.
    #[error("store")]
    Store(#[from] crate::store::StoreError),
    /// The registry URL is not valid.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A file or socket could not be set up.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The server task panicked or was cancelled.
    #[error("server task ended abnormally")]
    ServerTask(#[source] tokio::task::JoinError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartupError {
    let what = what.into();
    move |source| StartupError::Io { what, source }
}

/// Runs `strongroom serve` until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<(), StartupError> {
    if args.dev {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(args.dev_dir())
            .map_err(io(format!("creating {}", args.dev_dir().display())))?;
    }
    let key_provider = load_key(&args)?;
    tracing::info!(kek.id = key_provider.key_id(), "key-encryption key loaded");

    // The delete policy first: a bad registry URL fails before the
    // database is touched.
    let (stop_registry, registry_stopped) = oneshot::channel::<()>();
    let delete_policy = if args.dev {
        start_dev_registry(args.dev_dir(), args.registry_deadline, registry_stopped).await?
    } else if let Some(url) = &args.registry {
        let client = RegistryClient::new(url, args.registry_deadline)?;
        tracing::info!(
            registry = %url,
            deadline = ?args.registry_deadline,
            "deletes are checked with the evaluator registry"
        );
        DeletePolicy::Registry(Box::new(client))
    } else if args.unchecked_deletes {
        tracing::warn!(
            "--unchecked-deletes: secrets are deleted without asking the evaluator registry"
        );
        DeletePolicy::Unchecked
    } else {
        tracing::warn!("no evaluator registry configured: every delete will be refused");
        DeletePolicy::Refuse
    };

    let db = open_database(&args.database_url).await?;

    // One local key today: values wrapped by another key would fail to
    // open, and new writes would mix keys in one database. Refuse early.
    let store = SecretStore::open(db)?;
    let foreign = store.other_key_ids(key_provider.key_id(), 3).await?;
    if !foreign.is_empty() {
        return Err(StartupError::ForeignKeys {
            current: key_provider.key_id().to_owned(),
            found: foreign,
        });
    }

    let service = SecretService::new(store, Envelope::new(Arc::new(key_provider)), delete_policy);
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(io(format!("binding {}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(io("reading the bound address"))?;
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "listening beyond loopback, but strongroom has no authentication yet"
        );
    }
    tracing::info!(%addr, "strongroom listening");

    let (stop_server, server_stopping) = oneshot::channel::<()>();
    let mut server = tokio::spawn(server::run(listener, service, async {
        let _ = server_stopping.await;
    }));
    tokio::select! {
        finished = &mut server => return finished_server(finished),
        () = shutdown_signal() => {}
    }

    // Graceful: in-flight calls finish, but a long-lived stream (such as a
    // health watch) must not hold the process forever.
    tracing::info!(grace = ?args.shutdown_grace, "shutting down: in-flight calls finish first");
    let _ = stop_server.send(());
    tokio::select! {
        finished = &mut server => finished_server(finished)?,
        () = shutdown_signal() => {
            tracing::warn!("second signal: stopping without waiting for in-flight calls");
        }
        () = tokio::time::sleep(args.shutdown_grace) => {
            tracing::warn!("shutdown grace period over: stopping with calls still open");
        }
    }
    let _ = stop_registry.send(());
    tracing::info!("strongroom stopped");
    Ok(())
}

/// Opens the database at `url` and applies pending migrations; errors name
/// the database (password hidden).
pub async fn open_database(url: &str) -> Result<sea_orm::DatabaseConnection, StartupError> {
    let database = |source| database_error(url, source);
    let db = store::connect(url).await.map_err(database)?;
    store::migrate(&db).await.map_err(database)?;
    Ok(db)
}

fn database_error(url: &str, source: sea_orm::DbErr) -> StartupError {
    let hint = if url.starts_with("sqlite:") && !url.contains("mode=") {
        " (add ?mode=rwc to the URL to create a missing file)"
    } else {
        ""
    };
    StartupError::Database {
        url: without_password(url),
        hint,
        source,
    }
}

/// `url` with the password of its `user:password@` part, and of a
/// `password=` parameter, replaced by `***`.
fn without_password(url: &str) -> String {
    let mut shown = url.to_owned();
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@')
            && let Some((user, _password)) = authority[..at].split_once(':')
        {
            shown = format!("{scheme}://{user}:***{}", &rest[at..]);
        }
    }
    if let Some(start) = shown.find("password=").map(|at| at + "password=".len()) {
        let end = shown[start..].find('&').map_or(shown.len(), |n| start + n);
        shown.replace_range(start..end, "***");
    }
    shown
}

fn finished_server(
    finished: Result<Result<(), ServeError>, tokio::task::JoinError>,
) -> Result<(), StartupError> {
    match finished {
        Ok(result) => Ok(result?),
        Err(join) => Err(StartupError::ServerTask(join)),
    }
}

fn load_key(args: &ServeArgs) -> Result<LocalKeyProvider, StartupError> {
    if args.dev && args.key_file.is_none() {
        let path = args.dev_dir().join("kek.key");
        if !path.exists() {
            write_new_key_file(&path)?;
            tracing::warn!(
                path = %path.display(),
                "dev mode: generated a development key-encryption key"
            );
        }
        return Ok(LocalKeyProvider::from_file(&path)?);
    }
    if let Some(path) = &args.key_file {
        return Ok(LocalKeyProvider::from_file(path)?);
    }
    match std::env::var(KEY_ENV) {
        Ok(text) => Ok(LocalKeyProvider::from_base64(&text, KEY_ENV)?),
        Err(_) => Err(StartupError::NoKey),
    }
}

async fn start_dev_registry(
    dev_dir: &Path,
    deadline: std::time::Duration,
    stopped: oneshot::Receiver<()>,
) -> Result<DeletePolicy, StartupError> {
    let attachments = dev_dir.join("attachments.json");
    if !attachments.exists() {
        fs::write(&attachments, DEV_ATTACHMENTS)
            .map_err(io(format!("writing {}", attachments.display())))?;
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(io("binding the development registry"))?;
    let addr = listener
        .local_addr()
        .map_err(io("reading the development registry's address"))?;
    tracing::warn!(
        %addr,
        attachments = %attachments.display(),
        "dev mode: reference evaluator registry running in-process; \
         edit the file to attach or detach"
    );
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = dev_server::serve(listener, attachments, shutdown).await {
            tracing::error!(%error, "development registry stopped");
        }
    });
    Ok(DeletePolicy::Registry(Box::new(RegistryClient::new(
        &format!("http://{addr}"),
        deadline,
    )?)))
}

/// Completes on the next SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_shown_without_their_password() {
        assert_eq!(
            without_password("postgres://app:s3cr%40t@db:5432/strongroom?sslmode=off"),
            "postgres://app:***@db:5432/strongroom?sslmode=off"
        );
        assert_eq!(
            without_password("postgres://app@db/x"),
            "postgres://app@db/x"
        );
        assert_eq!(
            without_password("sqlite://a@b.db?mode=rwc"),
            "sqlite://a@b.db?mode=rwc"
        );
        assert_eq!(without_password("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            without_password("postgres://db/x?user=app&password=pw&sslmode=off"),
            "postgres://db/x?user=app&password=***&sslmode=off"
        );
    }
}
