//! The measured phases: one call of each RPC, and running a phase of one
//! RPC at the set concurrency into its Figures.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use strongroom::pb::strongroom::v1 as pb;
use strongroom::pb::strongroom::v1::secrets_service_client::SecretsServiceClient;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::Opts;
use crate::seed::{TENANT, make_value, secret_name, xorshift};
use crate::server::{cpu_secs, peak_rss_kib, reset_peak_rss};

/// The tenant CreateSecret writes into, so listings stay fixed.
const CREATE_TENANT: &str = "benchcreate";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rpc {
    Health,
    Access,
    Get,
    ListFirst,
    ListDeep,
    Create,
    Update,
}

impl Rpc {
    pub(crate) fn parse(text: &str) -> Result<Rpc, String> {
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

    pub(crate) fn label(self, deep_page: u32) -> String {
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

/// Everything a phase needs.
pub(crate) struct Ctx {
    pub(crate) opts: Opts,
    pub(crate) channels: Vec<Channel>,
    pub(crate) server_pid: u32,
    pub(crate) value: String,
    pub(crate) deep_token: String,
    pub(crate) deep_page_reached: u32,
    pub(crate) run_id: u64,
}

/// The figures of one phase.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    pub(crate) rpc: Rpc,
    pub(crate) ops: u64,
    pub(crate) secs: f64,
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    pub(crate) p999_us: u64,
    pub(crate) max_us: u64,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) server_cpu: f64,
    pub(crate) client_cpu: f64,
    pub(crate) server_peak_kib: u64,
}

impl Figures {
    pub(crate) fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
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

pub(crate) async fn run(ctx: &Arc<Ctx>, rpc: Rpc, perf: bool) -> Figures {
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
