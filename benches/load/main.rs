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
//!
//! This file owns the options, `main` and the order of a run. The rest:
//!
//! - `server`: starting and stopping the strongroom process, and reading
//!   a process's CPU time and peak RSS from /proc.
//! - `seed`: the data under test: a fresh database, the seeded secrets'
//!   names and values, the storage they take, the deep page token.
//! - `phase`: one call per RPC, and running a measured phase into Figures.
//! - `report`: the report's header, table and summary lines.
//! - `h2load`: running h2load, and the h2load confirmation of the headline.
//! - `openbao`: OpenBao's KV v2 read beside it.

mod h2load;
mod openbao;
mod phase;
mod report;
mod seed;
mod server;

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use tonic::transport::Endpoint;

use crate::phase::{Ctx, Rpc};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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

async fn run(opts: Opts) -> Result<(), BoxError> {
    fs::create_dir_all(&opts.work_dir)?;
    let server_bin = match &opts.server_bin {
        Some(path) => path.clone(),
        None => server::default_bin()?,
    };
    let key_file = opts.work_dir.join("kek.key");
    server::ensure_key(&server_bin, &key_file)?;
    let database_url = seed::prepare_database(&opts).await?;

    let (server, log_path) = server::start(&opts, &server_bin, &key_file, &database_url)?;
    let server_pid = server.pid();
    let endpoint = format!("http://127.0.0.1:{}", opts.port);
    server::wait_for_health(&endpoint).await?;
    let mut channels = Vec::new();
    for _ in 0..opts.connections.max(1) {
        channels.push(Endpoint::from_shared(endpoint.clone())?.connect().await?);
    }

    let value = seed::make_value(opts.value_bytes, 0);
    let mut report = String::new();
    report::header(&mut report, &opts)?;

    let seeded = Instant::now();
    match opts.seed_via {
        SeedVia::Grpc => seed::via_grpc(&channels, opts.secrets, &value).await?,
        SeedVia::Sql => seed::via_sql(&database_url, &key_file, opts.secrets, &value).await?,
    }
    let seed_secs = seeded.elapsed().as_secs_f64();
    let bytes = seed::storage_bytes(&opts, &database_url).await?;
    report::seeded(
        &mut report,
        &opts,
        seed_secs,
        bytes,
        server::peak_rss_kib(server_pid),
    )?;

    let (deep_token, deep_page_reached) = if opts.rpcs.contains("list-deep") {
        seed::deep_page_token(&channels[0], opts.page_size, opts.deep_page).await?
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
        let figures = phase::run(&ctx, rpc, perf).await;
        report::progress(&ctx, &figures);
        results.push(figures);
    }
    report::table(&mut report, &ctx, &results)?;

    if ctx.opts.h2load {
        h2load::confirm(&mut report, &ctx, &log_path).await?;
    }
    let strongroom_peak = server::peak_rss_kib(server_pid);
    server.stop();
    report::server_peak(&mut report, strongroom_peak)?;

    if ctx.opts.openbao {
        openbao::run(&mut report, &ctx).await?;
    }
    println!("{report}");
    Ok(())
}
