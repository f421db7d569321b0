//! h2load: running it and reading its summary, and the h2load
//! confirmation of the headline with gRPC-framed request bodies, checked
//! against the server's own per-RPC log lines.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use prost::Message as _;
use strongroom::pb::strongroom::v1 as pb;
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use tonic_health::pb::HealthCheckRequest;

use crate::BoxError;
use crate::phase::Ctx;
use crate::seed::secret_name;

/// h2load's summary of one run.
#[derive(Debug, Default)]
pub(crate) struct H2loadRun {
    pub(crate) done: u64,
    pub(crate) succeeded: u64,
    pub(crate) failed: u64,
    pub(crate) errored: u64,
    pub(crate) status_2xx: u64,
    pub(crate) data_bytes: u64,
    pub(crate) req_per_sec: f64,
    pub(crate) mean_ms: String,
    pub(crate) raw: String,
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

pub(crate) fn run(args: &[String]) -> Result<H2loadRun, BoxError> {
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
pub(crate) async fn confirm(report: &mut String, ctx: &Ctx, log: &Path) -> Result<(), BoxError> {
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
        let run = run(&args)?;
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
