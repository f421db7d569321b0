//! Load benchmark for strongroom: `cargo bench --bench load -- --help`.
//!
//! Starts the release `strongroom` binary as its own process (so its peak
//! memory and CPU time are the server's alone), seeds secrets, then drives
//! each RPC in turn over loopback through tonic clients at a fixed
//! concurrency for a fixed time. Every figure is reported beside the
//! grpc.health.v1 Check throughput of the same run. Optionally confirms the
//! headline with h2load and runs OpenBao's KV v2 read beside it.
//!
//! Not a test: `cargo test` does not build or run it (`test = false`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use prost::Message as _;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, Statement};
use strongroom::crypto::{Binding, Envelope, LocalKeyProvider};
use strongroom::domain::{Provider, SecretValue};
use strongroom::pb::strongroom::v1 as pb;
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use strongroom::store::{NewSecret, SecretRecord, SecretStore};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The tenant that holds the seeded secrets.
const TENANT: &str = "bench";
/// The tenant CreateSecret writes into, so listings stay fixed.
const CREATE_TENANT: &str = "benchcreate";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Db {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SeedVia {
    /// Concurrent CreateSecret calls through the running server.
    Grpc,
    /// Rows sealed with the real envelope and inserted by the real store
    /// code over a separate connection (SQLite: synchronous=OFF).
    Sql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rpc {
    Health,
    Access,
    Get,
    ListFirst,
    ListDeep,
    Create,
    Update,
}

impl Rpc {
    fn parse(text: &str) -> Result<Rpc, String> {
        Ok(match text {
            "health" => Rpc::Health,
            "access" => Rpc::Access,
            "get" => Rpc::Get,
            "list-first" => Rpc::ListFirst,
            "list-deep" => Rpc::ListDeep,
            "create" => Rpc::Create,
            "update" => Rpc::Update,
            other => return Err(format!("unknown rpc {other:?}")),
        })
    }

    fn label(self, deep_page: u32) -> String {
        match self {
            Rpc::Health => "Health/Check (baseline)".into(),
            Rpc::Access => "AccessSecretValue".into(),
            Rpc::Get => "GetSecret".into(),
            Rpc::ListFirst => "ListSecrets page 1".into(),
            Rpc::ListDeep => format!("ListSecrets page {deep_page}"),
            Rpc::Create => "CreateSecret".into(),
            Rpc::Update => "UpdateSecretValue".into(),
        }
    }
}

/// Drives strongroom with concurrent gRPC load and reports throughput,
/// latency percentiles, errors and the server's peak memory.
#[derive(Debug, Parser)]
#[command(name = "load")]
struct Opts {
    /// The database the server runs on.
    #[arg(long, value_enum, default_value = "sqlite")]
    db: Db,
    /// PostgreSQL server URL, without a database; the benchmark drops and
    /// creates --pg-database there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pg_server: String,
    /// The PostgreSQL database to (re)create.
    #[arg(long, default_value = "strongroom_bench")]
    pg_database: String,
    /// How many secrets to seed in tenant `bench`.
    #[arg(long, default_value_t = 1000)]
    secrets: u64,
    /// How to seed.
    #[arg(long, value_enum, default_value = "grpc")]
    seed_via: SeedVia,
    /// Comma-separated phases, run in order: health, access, get,
    /// list-first, list-deep, create, update.
    #[arg(
        long,
        default_value = "health,access,get,list-first,list-deep,create,update,health"
    )]
    rpcs: String,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// HTTP/2 connections the calls are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Measured time per phase.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Unmeasured load before each phase.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// ListSecrets page size.
    #[arg(long, default_value_t = 50)]
    page_size: i32,
    /// The deep page ListSecrets fetches (the last page if there are fewer).
    #[arg(long, default_value_t = 100)]
    deep_page: u32,
    /// Size of each secret value in bytes.
    #[arg(long, default_value_t = 64)]
    value_bytes: usize,
    /// RUST_LOG for the server.
    #[arg(long, default_value = "info")]
    server_log: String,
    /// Pin the server (and OpenBao) to these CPUs with taskset, e.g. `0`.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Tokio worker threads of the load generator.
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
    /// The strongroom binary; default: `release/strongroom` beside this
    /// benchmark's own directory.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Scratch directory for the database, key and logs.
    #[arg(long, default_value = "/tmp/strongroom-bench")]
    work_dir: PathBuf,
    /// Port on 127.0.0.1 for the server.
    #[arg(long, default_value_t = 50151)]
    port: u16,
    /// Also confirm AccessSecretValue and Health/Check with h2load.
    #[arg(long)]
    h2load: bool,
    /// Also run OpenBao (`bao server -dev`) and read a KV v2 secret of the
    /// same size with h2load over HTTP/1.1 at the same concurrency.
    #[arg(long)]
    openbao: bool,
    /// The `bao` executable.
    #[arg(long, default_value = "bao")]
    bao_bin: String,
    /// Record a perf profile of the server during this phase (its figures
    /// are then perturbed; use a separate run for the table).
    #[arg(long)]
    perf_phase: Option<String>,
    /// A label printed in the report header.
    #[arg(long, default_value = "")]
    label: String,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<(), BoxError> {
    let opts = Opts::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.client_threads)
        .enable_all()
        .build()?;
    runtime.block_on(run(opts))
}

/// A child process killed when dropped, so an error never leaves a server
/// running.
struct Guard {
    child: Child,
    name: &'static str,
}

impl Guard {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait up to 10 s, then SIGKILL.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Everything a phase needs.
struct Ctx {
    opts: Opts,
    channels: Vec<Channel>,
    server_pid: u32,
    value: String,
    deep_token: String,
    deep_page_reached: u32,
    run_id: u64,
}

/// The figures of one phase.
#[derive(Debug, Clone)]
struct Figures {
    rpc: Rpc,
    ops: u64,
    secs: f64,
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    max_us: u64,
    errors: BTreeMap<String, u64>,
    server_cpu: f64,
    client_cpu: f64,
    server_peak_kib: u64,
}

impl Figures {
    fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

async fn run(opts: Opts) -> Result<(), BoxError> {
    fs::create_dir_all(&opts.work_dir)?;
    let server_bin = match &opts.server_bin {
        Some(path) => path.clone(),
        None => default_server_bin()?,
    };
    let key_file = opts.work_dir.join("kek.key");
    if !key_file.exists() {
        let status = Command::new(&server_bin)
            .arg("keygen")
            .arg(&key_file)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("{} keygen failed", server_bin.display()).into());
        }
    }
    let database_url = prepare_database(&opts).await?;

    let log_path = opts
        .work_dir
        .join(format!("server-{:?}.log", opts.db).to_lowercase());
    let log = fs::File::create(&log_path)?;
    let mut command = match &opts.server_cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(&server_bin);
            c
        }
        None => Command::new(&server_bin),
    };
    command
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", opts.port))
        .arg("--database-url")
        .arg(&database_url)
        .arg("--key-file")
        .arg(&key_file)
        .arg("--unchecked-deletes")
        .env("RUST_LOG", &opts.server_log)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    let server = Guard {
        child: command.spawn()?,
        name: "strongroom",
    };
    let server_pid = server.pid();
    let endpoint = format!("http://127.0.0.1:{}", opts.port);
    wait_for_health(&endpoint).await?;
    let mut channels = Vec::new();
    for _ in 0..opts.connections.max(1) {
        channels.push(Endpoint::from_shared(endpoint.clone())?.connect().await?);
    }

    let value = make_value(opts.value_bytes, 0);
    let mut report = String::new();
    writeln!(
        report,
        "## strongroom load: db={:?} secrets={} concurrency={} connections={} duration={:?} warmup={:?} server RUST_LOG={} server_cpus={} client_threads={} {}",
        opts.db,
        opts.secrets,
        opts.concurrency,
        opts.connections,
        opts.duration,
        opts.warmup,
        opts.server_log,
        opts.server_cpus.as_deref().unwrap_or("any"),
        opts.client_threads,
        opts.label
    )?;
    writeln!(report)?;

    let seeded = Instant::now();
    match opts.seed_via {
        SeedVia::Grpc => seed_grpc(&channels, opts.secrets, &value).await?,
        SeedVia::Sql => seed_sql(&database_url, &key_file, opts.secrets, &value).await?,
    }
    let seed_secs = seeded.elapsed().as_secs_f64();
    let bytes = storage_bytes(&opts, &database_url).await?;
    writeln!(
        report,
        "seeded {} secrets of {} bytes via {:?} in {:.1} s ({:.0}/s); storage {} bytes = {:.0} bytes/secret; server peak RSS after seeding {} KiB",
        opts.secrets,
        opts.value_bytes,
        opts.seed_via,
        seed_secs,
        opts.secrets as f64 / seed_secs,
        bytes,
        bytes as f64 / opts.secrets.max(1) as f64,
        peak_rss_kib(server_pid)
    )?;

    let (deep_token, deep_page_reached) = if opts.rpcs.contains("list-deep") {
        deep_page_token(&channels[0], opts.page_size, opts.deep_page).await?
    } else {
        (String::new(), 1)
    };
    let ctx = Arc::new(Ctx {
        channels,
        server_pid,
        value,
        deep_token,
        deep_page_reached,
        run_id: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64 % 1_000_000_000),
        opts,
    });

    let mut results = Vec::new();
    for name in ctx.opts.rpcs.split(',').filter(|s| !s.is_empty()) {
        let rpc = Rpc::parse(name.trim())?;
        let perf = ctx.opts.perf_phase.as_deref() == Some(name.trim());
        let figures = run_phase(&ctx, rpc, perf).await;
        eprintln!(
            "{:<26} {:>9.0} ops/s p50 {:>6} us p99 {:>6} us p99.9 {:>6} us errors {}",
            rpc.label(ctx.deep_page_reached),
            figures.ops_per_sec(),
            figures.p50_us,
            figures.p99_us,
            figures.p999_us,
            figures.error_count()
        );
        results.push(figures);
    }
    write_table(&mut report, &ctx, &results)?;

    if ctx.opts.h2load {
        h2load_confirm(&mut report, &ctx, &log_path).await?;
    }
    let strongroom_peak = peak_rss_kib(server_pid);
    server.stop();
    writeln!(report)?;
    writeln!(
        report,
        "server VmHWM at exit (whole run, including seeding): {:.1} MiB",
        strongroom_peak as f64 / 1024.0
    )?;

    if ctx.opts.openbao {
        openbao(&mut report, &ctx).await?;
    }
    println!("{report}");
    Ok(())
}

fn default_server_bin() -> Result<PathBuf, BoxError> {
    // This benchmark runs as <target>/release/deps/load-<hash>.
    let exe = std::env::current_exe()?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?;
    let bin = release.join("strongroom");
    if !bin.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` first or pass --server-bin",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

/// A fresh, empty database; returns the server's URL for it.
async fn prepare_database(opts: &Opts) -> Result<String, BoxError> {
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

async fn wait_for_health(endpoint: &str) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(channel) = Endpoint::from_shared(endpoint.to_owned())?.connect().await {
            let mut client = HealthClient::new(channel);
            if client.check(HealthCheckRequest::default()).await.is_ok() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err("the server did not become healthy in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An ASCII value of `len` bytes that looks like an API key; `salt` makes
/// updates differ.
fn make_value(len: usize, salt: u64) -> String {
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

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn secret_id(i: u64) -> String {
    format!("s{i:07}")
}

fn secret_name(i: u64) -> String {
    format!("tenants/{TENANT}/secrets/{}", secret_id(i))
}

async fn seed_grpc(channels: &[Channel], n: u64, value: &str) -> Result<(), BoxError> {
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
async fn seed_sql(url: &str, key_file: &Path, n: u64, value: &str) -> Result<(), BoxError> {
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
    let store = SecretStore::new(db.clone());
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
async fn storage_bytes(opts: &Opts, url: &str) -> Result<u64, BoxError> {
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
async fn deep_page_token(
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

/// CPU seconds (user + system) a process has used; assumes USER_HZ = 100.
fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: utime is the 12th and
    // stime the 13th of those.
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    ticks as f64 / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS, so the next read is this phase's peak.
fn reset_peak_rss(pid: u32) {
    let _ = fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// One call's outcome: Ok, or the gRPC code's name.
type Outcome = Result<(), String>;

async fn call(
    rpc: Rpc,
    ctx: &Ctx,
    secrets: &mut SecretsServiceClient<Channel>,
    health: &mut HealthClient<Channel>,
    rng: &mut u64,
    task: usize,
    seq: u64,
) -> Outcome {
    let n = ctx.opts.secrets.max(1);
    *rng = xorshift(*rng);
    let pick = *rng % n;
    let code = |s: tonic::Status| format!("{:?}", s.code());
    match rpc {
        Rpc::Health => health
            .check(HealthCheckRequest::default())
            .await
            .map(drop)
            .map_err(code),
        Rpc::Access => {
            let name = secret_name(pick);
            let response = secrets
                .access_secret_value(pb::AccessSecretValueRequest { name })
                .await
                .map_err(code)?;
            if response.get_ref().value.len() != ctx.value.len() {
                return Err("WrongValue".into());
            }
            Ok(())
        }
        Rpc::Get => secrets
            .get_secret(pb::GetSecretRequest {
                name: secret_name(pick),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::ListFirst | Rpc::ListDeep => {
            let page_token = if rpc == Rpc::ListDeep {
                ctx.deep_token.clone()
            } else {
                String::new()
            };
            let response = secrets
                .list_secrets(pb::ListSecretsRequest {
                    parent: format!("tenants/{TENANT}"),
                    page_size: ctx.opts.page_size,
                    page_token,
                    provider: 0,
                })
                .await
                .map_err(code)?;
            if response.get_ref().secrets.is_empty() {
                return Err("EmptyPage".into());
            }
            Ok(())
        }
        Rpc::Create => secrets
            .create_secret(pb::CreateSecretRequest {
                parent: format!("tenants/{CREATE_TENANT}"),
                secret_id: format!("c{}-{task}-{seq}", ctx.run_id),
                provider: pb::Provider::Openai as i32,
                value: ctx.value.clone(),
            })
            .await
            .map(drop)
            .map_err(code),
        Rpc::Update => secrets
            .update_secret_value(pb::UpdateSecretValueRequest {
                name: secret_name(pick),
                value: make_value(ctx.opts.value_bytes, *rng),
                etag: String::new(),
            })
            .await
            .map(drop)
            .map_err(code),
    }
}

async fn run_phase(ctx: &Arc<Ctx>, rpc: Rpc, perf: bool) -> Figures {
    let start = Instant::now();
    let measure_from = start + ctx.opts.warmup;
    let until = measure_from + ctx.opts.duration;
    let mut tasks = Vec::new();
    for task in 0..ctx.opts.concurrency {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let channel = ctx.channels[task % ctx.channels.len()].clone();
            let mut secrets = SecretsServiceClient::new(channel.clone());
            let mut health = HealthClient::new(channel);
            let mut rng = 0x2545_F491_4F6C_DD1D ^ (task as u64 + 1).wrapping_mul(0x9E37_79B9);
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let mut seq = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                seq += 1;
                let outcome = call(rpc, &ctx, &mut secrets, &mut health, &mut rng, task, seq).await;
                if t0 >= measure_from {
                    match outcome {
                        Ok(()) => latencies.push(t0.elapsed().as_micros() as u32),
                        Err(code) => *errors.entry(code).or_default() += 1,
                    }
                }
            }
            (latencies, errors)
        }));
    }

    // Meter the measured window only: CPU of both processes, and the
    // server's peak RSS from the start of the phase.
    let pid = ctx.server_pid;
    reset_peak_rss(pid);
    tokio::time::sleep_until(measure_from.into()).await;
    let (server0, client0) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    let profiler = if perf {
        let out = ctx
            .opts
            .work_dir
            .join(format!("perf-{}-{:?}.data", rpc_slug(rpc), ctx.opts.db).to_lowercase());
        Command::new("perf")
            .args([
                "record",
                "-e",
                "cpu-clock",
                "-F",
                "999",
                "-p",
                &pid.to_string(),
                "-o",
            ])
            .arg(&out)
            .args(["--", "sleep"])
            .arg(ctx.opts.duration.as_secs().max(1).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    } else {
        None
    };
    tokio::time::sleep_until(until.into()).await;
    let (server1, client1) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    let server_peak_kib = peak_rss_kib(pid);

    let mut latencies = Vec::new();
    let mut errors = BTreeMap::new();
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latencies.extend(l);
            for (code, count) in e {
                *errors.entry(code).or_default() += count;
            }
        }
    }
    if let Some(mut p) = profiler {
        let _ = p.wait();
    }
    latencies.sort_unstable();
    let pct = |q: f64| -> u64 {
        if latencies.is_empty() {
            return 0;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        u64::from(latencies[i])
    };
    let secs = ctx.opts.duration.as_secs_f64();
    Figures {
        rpc,
        ops: latencies.len() as u64,
        secs,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        p999_us: pct(0.999),
        max_us: latencies.last().map_or(0, |&v| u64::from(v)),
        errors,
        server_cpu: (server1 - server0) / secs,
        client_cpu: (client1 - client0) / secs,
        server_peak_kib,
    }
}

fn rpc_slug(rpc: Rpc) -> &'static str {
    match rpc {
        Rpc::Health => "health",
        Rpc::Access => "access",
        Rpc::Get => "get",
        Rpc::ListFirst => "list-first",
        Rpc::ListDeep => "list-deep",
        Rpc::Create => "create",
        Rpc::Update => "update",
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn write_table(report: &mut String, ctx: &Ctx, results: &[Figures]) -> Result<(), BoxError> {
    let baselines: Vec<f64> = results
        .iter()
        .filter(|f| f.rpc == Rpc::Health)
        .map(Figures::ops_per_sec)
        .collect();
    let baseline = if baselines.is_empty() {
        f64::NAN
    } else {
        baselines.iter().sum::<f64>() / baselines.len() as f64
    };
    writeln!(report)?;
    writeln!(
        report,
        "baseline (mean of {} Health/Check phases): {:.0} ops/s",
        baselines.len(),
        baseline
    )?;
    writeln!(report)?;
    writeln!(
        report,
        "| RPC | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | ratio to health | server CPU (cores) | server CPU us/op | load-gen CPU (cores) | server peak RSS MiB |"
    )?;
    writeln!(
        report,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for f in results {
        let errors = if f.errors.is_empty() {
            "0".to_owned()
        } else {
            f.errors
                .iter()
                .map(|(c, n)| format!("{n} {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            report,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.1} |",
            f.rpc.label(ctx.deep_page_reached),
            f.ops_per_sec(),
            ms(f.p50_us),
            ms(f.p99_us),
            ms(f.p999_us),
            ms(f.max_us),
            errors,
            f.ops_per_sec() / baseline,
            f.server_cpu,
            f.server_cpu * 1e6 / f.ops_per_sec().max(1.0),
            f.client_cpu,
            f.server_peak_kib as f64 / 1024.0
        )?;
    }
    Ok(())
}

/// h2load's summary of one run.
#[derive(Debug, Default)]
struct H2loadRun {
    done: u64,
    succeeded: u64,
    failed: u64,
    errored: u64,
    status_2xx: u64,
    data_bytes: u64,
    req_per_sec: f64,
    mean_ms: String,
    raw: String,
}

fn parse_h2load(out: &str) -> H2loadRun {
    let mut run = H2loadRun {
        raw: out.to_owned(),
        ..H2loadRun::default()
    };
    let num_before = |line: &str, word: &str| -> u64 {
        let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        words
            .windows(2)
            .find(|w| w[1] == word)
            .and_then(|w| w[0].parse().ok())
            .unwrap_or(0)
    };
    for line in out.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("requests:") {
            run.done = num_before(rest, "done");
            run.succeeded = num_before(rest, "succeeded");
            run.failed = num_before(rest, "failed");
            run.errored = num_before(rest, "errored");
        } else if let Some(rest) = line.strip_prefix("status codes:") {
            run.status_2xx = num_before(rest, "2xx");
        } else if let Some(rest) = line.strip_prefix("traffic:") {
            // "... total, ... headers (space savings x%), 3.20KB (3280) data"
            if let Some(data) = rest.rsplit_once(") data").map(|(a, _)| a)
                && let Some((_, n)) = data.rsplit_once('(')
            {
                run.data_bytes = n.parse().unwrap_or(0);
            }
        } else if let Some(rest) = line.strip_prefix("finished in") {
            run.req_per_sec = rest
                .split(',')
                .nth(1)
                .and_then(|s| s.trim().strip_suffix(" req/s"))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0.0);
        } else if let Some(rest) = line.strip_prefix("time for request:") {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            run.mean_ms = fields.get(2).copied().unwrap_or("?").to_owned();
        }
    }
    run
}

fn run_h2load(args: &[String]) -> Result<H2loadRun, BoxError> {
    let output = Command::new("h2load").args(args).output()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "h2load failed: {}\n{text}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(parse_h2load(&text))
}

/// Counts the server's per-RPC log lines for `method`: (OK, not OK).
fn count_rpc_lines(log: &Path, method: &str) -> (u64, u64) {
    let text = fs::read_to_string(log).unwrap_or_default();
    let mut ok = 0;
    let mut bad = 0;
    for line in text.lines() {
        if line.contains(method) && line.contains("rpc finished") {
            if line.contains("grpc.code=\"Ok\"") || line.contains("grpc.code=Ok") {
                ok += 1;
            } else {
                bad += 1;
            }
        }
    }
    (ok, bad)
}

fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(0);
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

/// Runs h2load with gRPC framing against Health/Check and
/// AccessSecretValue, and proves every call succeeded: each successful
/// unary response carries exactly one DATA frame payload of a known size
/// (an error is a trailers-only response with no DATA), so DATA bytes must
/// equal successes × that size; and with RUST_LOG=info the server's own
/// per-RPC lines must all say grpc.code=Ok.
async fn h2load_confirm(report: &mut String, ctx: &Ctx, log: &Path) -> Result<(), BoxError> {
    let dir = &ctx.opts.work_dir;
    let mut client = SecretsServiceClient::new(ctx.channels[0].clone());
    let name = secret_name(0);
    let sample = client
        .access_secret_value(pb::AccessSecretValueRequest { name: name.clone() })
        .await?
        .into_inner();
    let access_body = dir.join("access.grpc");
    fs::write(
        &access_body,
        grpc_frame(&pb::AccessSecretValueRequest { name }.encode_to_vec()),
    )?;
    let access_expected = 5 + sample.encoded_len() as u64;
    let health_body = dir.join("health.grpc");
    fs::write(
        &health_body,
        grpc_frame(&HealthCheckRequest::default().encode_to_vec()),
    )?;
    let health_expected = 5 + tonic_health::pb::HealthCheckResponse {
        status: tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
    }
    .encoded_len() as u64;

    let streams = (ctx.opts.concurrency / ctx.opts.connections.max(1)).max(1);
    writeln!(report)?;
    writeln!(
        report,
        "### h2load confirmation ({} connections x {} streams = {} in flight, {:?}, no warm-up)",
        ctx.opts.connections,
        streams,
        ctx.opts.connections * streams,
        ctx.opts.duration,
    )?;
    writeln!(report)?;
    writeln!(
        report,
        "| path | req/s | mean ms | done | 2xx | DATA bytes | expected (done x {{size}}) | server log OK / not OK | all succeeded |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
    let mut rates = Vec::new();
    for (path, body, size, method) in [
        (
            "/grpc.health.v1.Health/Check",
            &health_body,
            health_expected,
            "grpc.health.v1.Health/Check",
        ),
        (
            "/strongroom.v1.SecretsService/AccessSecretValue",
            &access_body,
            access_expected,
            "SecretsService/AccessSecretValue",
        ),
    ] {
        let before = count_rpc_lines(log, method);
        let args: Vec<String> = vec![
            // No --warm-up-time: h2load's DATA byte count would include the
            // warm-up while `done` would not. The tonic phases warmed up.
            "-D".into(),
            ctx.opts.duration.as_secs().max(1).to_string(),
            "-c".into(),
            ctx.opts.connections.to_string(),
            "-m".into(),
            streams.to_string(),
            "-t".into(),
            "1".into(),
            "-d".into(),
            body.display().to_string(),
            "-H".into(),
            "content-type: application/grpc".into(),
            "-H".into(),
            "te: trailers".into(),
            format!("http://127.0.0.1:{}{path}", ctx.opts.port),
        ];
        let run = run_h2load(&args)?;
        // The log is written as calls finish; give the writer a moment.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = count_rpc_lines(log, method);
        let (ok, bad) = (after.0 - before.0, after.1 - before.1);
        let logged = ctx.opts.server_log.starts_with("info");
        let all_ok = run.failed == 0
            && run.errored == 0
            && run.status_2xx == run.done
            && run.data_bytes == run.done * size
            && (!logged || bad == 0);
        fs::write(
            dir.join(format!(
                "h2load-{}.txt",
                path.rsplit('/').next().unwrap_or("x")
            )),
            &run.raw,
        )?;
        writeln!(
            report,
            "| {path} | {:.0} | {} | {} | {} | {} | {} (size {size}) | {} | {} |",
            run.req_per_sec,
            run.mean_ms,
            run.done,
            run.status_2xx,
            run.data_bytes,
            run.done * size,
            if logged {
                format!("{ok} / {bad}")
            } else {
                "not logged".into()
            },
            if all_ok { "yes" } else { "NO" }
        )?;
        rates.push(run.req_per_sec);
    }
    writeln!(report)?;
    writeln!(
        report,
        "h2load AccessSecretValue / Health/Check = {:.2}",
        rates[1] / rates[0]
    )?;
    Ok(())
}

/// Starts `bao server -dev` on 127.0.0.1:8200, writes a KV v2 secret of
/// the same size, reads it with h2load over HTTP/1.1 at the same
/// concurrency, and stops it.
async fn openbao(report: &mut String, ctx: &Ctx) -> Result<(), BoxError> {
    let log = fs::File::create(ctx.opts.work_dir.join("openbao.log"))?;
    let mut command = match &ctx.opts.server_cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(&ctx.opts.bao_bin);
            c
        }
        None => Command::new(&ctx.opts.bao_bin),
    };
    command
        .args([
            "server",
            "-dev",
            "-dev-listen-address=127.0.0.1:8200",
            "-dev-root-token-id=root",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let bao = Guard {
        child: command.spawn()?,
        name: "openbao",
    };
    let bao_pid = bao.pid();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = Command::new(&ctx.opts.bao_bin)
            .args(["kv", "put", "-mount=secret", "bench"])
            .arg(format!("value={}", ctx.value))
            .env("BAO_ADDR", "http://127.0.0.1:8200")
            .env("BAO_TOKEN", "root")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            break;
        }
        if Instant::now() > deadline {
            return Err("could not write the OpenBao secret in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    reset_peak_rss(bao_pid);
    let cpu0 = cpu_secs(&bao_pid.to_string());
    let args: Vec<String> = vec![
        "--h1".into(),
        "-D".into(),
        ctx.opts.duration.as_secs().max(1).to_string(),
        "--warm-up-time".into(),
        ctx.opts.warmup.as_secs().max(1).to_string(),
        "-c".into(),
        ctx.opts.concurrency.to_string(),
        "-m".into(),
        "1".into(),
        "-t".into(),
        "1".into(),
        "-H".into(),
        "X-Vault-Token: root".into(),
        "http://127.0.0.1:8200/v1/secret/data/bench".into(),
    ];
    let run = run_h2load(&args)?;
    let secs = (ctx.opts.duration + ctx.opts.warmup).as_secs_f64();
    let cpu = (cpu_secs(&bao_pid.to_string()) - cpu0) / secs;
    let peak = peak_rss_kib(bao_pid);
    bao.stop();
    fs::write(ctx.opts.work_dir.join("h2load-openbao.txt"), &run.raw)?;
    let version = Command::new(&ctx.opts.bao_bin)
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    writeln!(report)?;
    writeln!(
        report,
        "### OpenBao KV v2 read ({version}, -dev in-memory storage, h2load --h1, {} connections x 1)",
        ctx.opts.concurrency
    )?;
    writeln!(report)?;
    writeln!(
        report,
        "| GET /v1/secret/data/bench | req/s | mean ms | done | 2xx | failed+errored | server CPU (cores, incl. warm-up) | peak RSS MiB |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    writeln!(
        report,
        "| {}-byte value | {:.0} | {} | {} | {} | {} | {:.2} | {:.1} |",
        ctx.opts.value_bytes,
        run.req_per_sec,
        run.mean_ms,
        run.done,
        run.status_2xx,
        run.failed + run.errored,
        cpu,
        peak as f64 / 1024.0
    )?;
    let _ = std::io::stdout().flush();
    Ok(())
}
