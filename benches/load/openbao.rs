//! OpenBao beside strongroom: its dev server, a KV v2 secret of the same
//! size, and h2load reading it over HTTP/1.1 at the same concurrency.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::phase::Ctx;
use crate::server::{Guard, cpu_secs, peak_rss_kib, pinned, reset_peak_rss};
use crate::{BoxError, h2load};

/// Starts `bao server -dev` on 127.0.0.1:8200, writes a KV v2 secret of
/// the same size, reads it with h2load over HTTP/1.1 at the same
/// concurrency, and stops it.
pub(crate) async fn run(report: &mut String, ctx: &Ctx) -> Result<(), BoxError> {
    let log = fs::File::create(ctx.opts.work_dir.join("openbao.log"))?;
    let mut command = pinned(ctx.opts.server_cpus.as_deref(), &ctx.opts.bao_bin);
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
    let run = h2load::run(&args)?;
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
