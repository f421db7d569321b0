//! Starts the real server in-process on 127.0.0.1:0 against a fresh
//! database, with the reference evaluator registry, and hands out clients.
//!
//! SQLite always; PostgreSQL when `STRONGROOM_TEST_POSTGRES_URL` names a
//! server (each test gets a database of its own, dropped afterwards). Logs
//! are off unless `STRONGROOM_TEST_LOG` holds a filter such as `debug`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use base64::Engine as _;
use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use strongroom::crypto::{Envelope, LocalKeyProvider};
use strongroom::pb::strongroom::v1 as pb;
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use strongroom::registry::{DeletePolicy, RegistryClient, dev_server};
use strongroom::service::SecretService;
use strongroom::store::{self, SecretStore};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The environment variable that turns on the PostgreSQL half of the suite.
pub const POSTGRES_ENV: &str = "STRONGROOM_TEST_POSTGRES_URL";

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this admin URL.
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend, if the environment configures one.
    pub fn postgres() -> Option<Backend> {
        std::env::var(POSTGRES_ENV).ok().map(Backend::Postgres)
    }
}

/// Generates each test twice: on SQLite, and on PostgreSQL when configured.
macro_rules! on_both_backends {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $backend = $crate::support::Backend::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($backend) = $crate::support::Backend::postgres() else {
                        eprintln!("skipped: {} is not set", $crate::support::POSTGRES_ENV);
                        return;
                    };
                    $body
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// How the server under test checks deletes.
#[derive(Debug, Clone)]
pub enum Registry {
    /// The reference registry, answering from the test's attachments file.
    File,
    /// A registry address where nothing listens.
    Unreachable,
    /// A registry of the test's own at this address.
    At(SocketAddr),
    /// No registry: deletes refused.
    None,
    /// No registry: deletes unchecked.
    Unchecked,
}

/// Options for [`TestApp::spawn_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// How deletes are checked.
    pub registry: Registry,
    /// The registry deadline.
    pub registry_deadline: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            registry: Registry::File,
            registry_deadline: Duration::from_secs(2),
        }
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// A client of SecretsService.
    pub client: SecretsServiceClient<Channel>,
    /// A channel to the server, for health and reflection clients.
    pub channel: Channel,
    /// A direct connection to the server's database.
    pub db: DatabaseConnection,
    /// The reference registry's attachments file.
    pub attachments: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    _registry_shutdown: Option<oneshot::Sender<()>>,
    postgres_cleanup: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// A server on `backend` with the reference registry.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Options::default()).await
    }

    /// A server on `backend` configured by `options`.
    pub async fn spawn_with(backend: Backend, options: Options) -> TestApp {
        init_logs();
        let dir = tempfile::tempdir().expect("temporary directory");
        let (url, postgres_cleanup) = match &backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                None,
            ),
            Backend::Postgres(admin) => {
                let (url, name) = create_postgres_database(admin).await;
                (url, Some((admin.clone(), name)))
            }
        };
        let db = store::connect(&url).await.expect("database opens");
        store::migrate(&db).await.expect("migrations apply");

        let attachments = dir.path().join("attachments.json");
        std::fs::write(&attachments, "{}").expect("attachments file");
        let (registry_shutdown, registry_stopped) = oneshot::channel::<()>();
        let deadline = options.registry_deadline;
        let policy = match options.registry {
            Registry::File => {
                let addr = start_file_registry(attachments.clone(), registry_stopped).await;
                registry_client(addr, deadline)
            }
            Registry::Unreachable => registry_client(unused_address().await, deadline),
            Registry::At(addr) => registry_client(addr, deadline),
            Registry::None => DeletePolicy::Refuse,
            Registry::Unchecked => DeletePolicy::Unchecked,
        };

        let key = base64::engine::general_purpose::STANDARD.encode(rand_bytes());
        let provider = LocalKeyProvider::from_base64(&key, "test key").expect("test key");
        let service = SecretService::new(
            SecretStore::open(db.clone()).expect("store opens"),
            Envelope::new(Arc::new(provider)),
            policy,
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("bound address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let stop = async {
                let _ = stopped.await;
            };
            strongroom::server::run(listener, service, stop)
                .await
                .expect("server runs");
        });

        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("valid URL")
            .connect()
            .await
            .expect("client connects");
        TestApp {
            client: SecretsServiceClient::new(channel.clone()),
            channel,
            db,
            attachments,
            shutdown: Some(shutdown),
            server: Some(server),
            _registry_shutdown: Some(registry_shutdown),
            postgres_cleanup,
            _dir: dir,
        }
    }

    /// Attaches `instances` (name, display name) to the secret `name` by
    /// rewriting the attachments file the reference registry reads.
    pub fn attach(&self, name: &str, instances: &[(&str, &str)]) {
        let list: Vec<serde_json::Value> = instances
            .iter()
            .map(|(n, d)| serde_json::json!({"name": n, "display_name": d}))
            .collect();
        let map = serde_json::json!({ name: list });
        std::fs::write(&self.attachments, map.to_string()).expect("attachments written");
    }

    /// Detaches everything.
    pub fn detach_all(&self) {
        std::fs::write(&self.attachments, "{}").expect("attachments written");
    }

    /// Begins a graceful shutdown and returns the server task.
    pub fn begin_shutdown(&mut self) -> JoinHandle<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.server.take().expect("server still running")
    }

    /// Creates `tenants/{tenant}/secrets/{id}` with `value`.
    pub async fn create(
        &self,
        tenant: &str,
        id: &str,
        provider: pb::Provider,
        value: &str,
    ) -> Result<pb::Secret, tonic::Status> {
        let request = pb::CreateSecretRequest {
            parent: format!("tenants/{tenant}"),
            secret_id: id.to_owned(),
            provider: provider.into(),
            value: value.to_owned(),
        };
        self.client
            .clone()
            .create_secret(request)
            .await
            .map(|r| r.into_inner())
    }

    /// Gets the secret `name`.
    pub async fn get(&self, name: &str) -> Result<pb::Secret, tonic::Status> {
        let request = pb::GetSecretRequest { name: name.into() };
        self.client
            .clone()
            .get_secret(request)
            .await
            .map(|r| r.into_inner())
    }

    /// Accesses the value of `name`.
    pub async fn access(&self, name: &str) -> Result<pb::AccessSecretValueResponse, tonic::Status> {
        let request = pb::AccessSecretValueRequest { name: name.into() };
        self.client
            .clone()
            .access_secret_value(request)
            .await
            .map(|r| r.into_inner())
    }

    /// Updates the value of `name`, conditionally on `etag` when not empty.
    pub async fn update(
        &self,
        name: &str,
        value: &str,
        etag: &str,
    ) -> Result<pb::Secret, tonic::Status> {
        let request = pb::UpdateSecretValueRequest {
            name: name.into(),
            value: value.into(),
            etag: etag.into(),
        };
        self.client
            .clone()
            .update_secret_value(request)
            .await
            .map(|r| r.into_inner())
    }

    /// Deletes `name`, conditionally on `etag` when not empty.
    pub async fn delete(&self, name: &str, etag: &str) -> Result<(), tonic::Status> {
        let request = pb::DeleteSecretRequest {
            name: name.into(),
            etag: etag.into(),
        };
        self.client.clone().delete_secret(request).await.map(|_| ())
    }

    /// Lists a page.
    pub async fn list(
        &self,
        request: pb::ListSecretsRequest,
    ) -> Result<pb::ListSecretsResponse, tonic::Status> {
        self.client
            .clone()
            .list_secrets(request)
            .await
            .map(|r| r.into_inner())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some((admin, name)) = self.postgres_cleanup.take() {
            // Drop cannot await: drop the database from a thread with a
            // runtime of its own, and wait for it.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("cleanup runtime");
                runtime.block_on(async {
                    if let Ok(db) = sea_orm::Database::connect(&admin).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = db.execute_unprepared(&sql).await;
                    }
                });
            })
            .join();
        }
    }
}

fn registry_client(addr: SocketAddr, deadline: Duration) -> DeletePolicy {
    let client = RegistryClient::new(&format!("http://{addr}"), deadline).expect("registry URL");
    DeletePolicy::Registry(Box::new(client))
}

async fn start_file_registry(attachments: PathBuf, stopped: oneshot::Receiver<()>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        let stop = async {
            let _ = stopped.await;
        };
        dev_server::serve(listener, attachments, stop)
            .await
            .expect("registry runs");
    });
    addr
}

/// An address on loopback where nothing listens.
pub async fn unused_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    listener.local_addr().expect("bound address")
}

async fn create_postgres_database(admin: &str) -> (String, String) {
    let name = format!("strongroom_test_{}", uuid::Uuid::new_v4().simple());
    let db = sea_orm::Database::connect(admin)
        .await
        .expect("PostgreSQL admin connection");
    // A linguistic collation, as production databases often have, under
    // which punctuation sorts unlike bytes: listings must not depend on it.
    let create = format!(
        "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' \
         LOCALE 'C.UTF-8'"
    );
    db.execute_unprepared(&create)
        .await
        .expect("create test database");
    let base = admin.split('?').next().unwrap_or(admin);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    (format!("{server}/{name}"), name)
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("random");
    bytes
}

fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Ok(filter) = std::env::var("STRONGROOM_TEST_LOG") {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .init();
        }
    });
}

/// The folder of fake credentials in each provider's format.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata")
}

/// The google.rpc details of a status.
pub fn details(status: &tonic::Status) -> tonic_types::ErrorDetails {
    use tonic_types::StatusExt as _;
    status.get_error_details()
}

/// The fields named by a status's BadRequest details.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    details(status)
        .bad_request()
        .map(|br| {
            br.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default()
}
