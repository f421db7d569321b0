//! The data under test: a fresh database, the seeded secrets (their names
//! and values, written through gRPC or straight through the store), the
//! storage they take, and the token of the deep ListSecrets page.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, Statement};
use strongroom::crypto::{Binding, Envelope, LocalKeyProvider};
use strongroom::domain::{Provider, SecretValue};
use strongroom::pb::strongroom::v1 as pb;
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use strongroom::store::{NewSecret, SecretRecord, SecretStore};
use tonic::transport::Channel;

use crate::{BoxError, Db, Opts};

/// The tenant that holds the seeded secrets.
pub(crate) const TENANT: &str = "bench";

/// A fresh, empty database; returns the server's URL for it.
pub(crate) async fn prepare_database(opts: &Opts) -> Result<String, BoxError> {
    match opts.db {
        Db::Sqlite => {
            let path = opts.work_dir.join("bench.db");
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = fs::remove_file(p);
            }
            let abs = fs::canonicalize(&opts.work_dir)?.join("bench.db");
            Ok(format!("sqlite://{}?mode=rwc", abs.display()))
        }
        Db::Postgres => {
            let admin = Database::connect(format!("{}/postgres", opts.pg_server)).await?;
            let name = &opts.pg_database;
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err("--pg-database must be letters, digits and _".into());
            }
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await?;
            Ok(format!("{}/{name}", opts.pg_server))
        }
    }
}

/// An ASCII value of `len` bytes that looks like an API key; `salt` makes
/// updates differ.
pub(crate) fn make_value(len: usize, salt: u64) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut value = String::from("sk-");
    while value.len() < len.max(4) {
        state = xorshift(state);
        value.push(alphabet[(state % alphabet.len() as u64) as usize] as char);
    }
    value.truncate(len.max(1));
    value
}

pub(crate) fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn secret_id(i: u64) -> String {
    format!("s{i:07}")
}

pub(crate) fn secret_name(i: u64) -> String {
    format!("tenants/{TENANT}/secrets/{}", secret_id(i))
}

pub(crate) async fn via_grpc(channels: &[Channel], n: u64, value: &str) -> Result<(), BoxError> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..64 {
        let mut client = SecretsServiceClient::new(channels[t % channels.len()].clone());
        let next = next.clone();
        let value = value.to_owned();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), tonic::Status>(());
                }
                client
                    .create_secret(pb::CreateSecretRequest {
                        parent: format!("tenants/{TENANT}"),
                        secret_id: secret_id(i),
                        provider: pb::Provider::Openai as i32,
                        value: value.clone(),
                    })
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// Seeds through the store directly: each row is sealed by the real
/// envelope under the server's key and inserted by the real store code.
pub(crate) async fn via_sql(
    url: &str,
    key_file: &Path,
    n: u64,
    value: &str,
) -> Result<(), BoxError> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Off)
            .busy_timeout(Duration::from_secs(30))
    });
    if url.starts_with("sqlite:") {
        options.max_connections(1);
    } else {
        options.max_connections(16);
    }
    let db = Database::connect(options).await?;
    let store = SecretStore::open(db.clone())?;
    let envelope = Envelope::new(Arc::new(LocalKeyProvider::from_file(key_file)?));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (store, envelope, next, value) = (
            store.clone(),
            envelope.clone(),
            next.clone(),
            value.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), BoxError>(());
                }
                if i % 100_000 == 0 && i > 0 {
                    eprintln!("seeded {i} in {:.0} s", started.elapsed().as_secs_f64());
                }
                let uid = uuid::Uuid::new_v4();
                let secret =
                    SecretValue::parse(value.clone(), "value").map_err(|v| format!("{v:?}"))?;
                let sealed = envelope
                    .seal(
                        Binding {
                            tenant: TENANT,
                            uid,
                            version: 1,
                        },
                        &secret,
                    )
                    .await?;
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros() as i64;
                let record = SecretRecord {
                    uid,
                    tenant: TENANT.to_owned(),
                    name: secret_id(i),
                    provider: Provider::OpenAi,
                    preview: secret.preview(),
                    version: 1,
                    create_time: now,
                    update_time: now,
                };
                store.insert(NewSecret { record, sealed }).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    db.close().await?;
    Ok(())
}

/// Bytes the database uses for the secrets: the SQLite file after a
/// checkpoint, or PostgreSQL's `pg_total_relation_size('secrets')`.
pub(crate) async fn storage_bytes(opts: &Opts, url: &str) -> Result<u64, BoxError> {
    let db = Database::connect(url).await?;
    let bytes = match opts.db {
        Db::Sqlite => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
            fs::metadata(opts.work_dir.join("bench.db"))?.len()
        }
        Db::Postgres => {
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT pg_total_relation_size('secrets')",
                ))
                .await?
                .ok_or("no row")?;
            row.try_get_by_index::<i64>(0)? as u64
        }
    };
    db.close().await?;
    Ok(bytes)
}

/// Walks ListSecrets to the token of page `page` (or of the last page).
pub(crate) async fn deep_page_token(
    channel: &Channel,
    page_size: i32,
    page: u32,
) -> Result<(String, u32), BoxError> {
    let mut client = SecretsServiceClient::new(channel.clone());
    let mut token = String::new();
    let mut reached = 1;
    while reached < page {
        let response = client
            .list_secrets(pb::ListSecretsRequest {
                parent: format!("tenants/{TENANT}"),
                page_size,
                page_token: token.clone(),
                provider: 0,
            })
            .await?
            .into_inner();
        if response.next_page_token.is_empty() {
            break;
        }
        token = response.next_page_token;
        reached += 1;
    }
    Ok((token, reached))
}
