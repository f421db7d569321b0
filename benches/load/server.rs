//! The processes under test: starting and stopping the strongroom server
//! (and any pinned child), and reading a process's CPU time and peak RSS
//! from /proc.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::{BoxError, Opts};

/// A child process killed when dropped, so an error never leaves a server
/// running.
pub(crate) struct Guard {
    pub(crate) child: Child,
    pub(crate) name: &'static str,
}

impl Guard {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait up to 10 s, then SIGKILL.
    pub(crate) fn stop(mut self) {
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

/// A command for `program`, pinned with taskset to `cpus` if given.
pub(crate) fn pinned(cpus: Option<&str>, program: impl AsRef<std::ffi::OsStr>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(program);
            c
        }
        None => Command::new(program),
    }
}

pub(crate) fn default_bin() -> Result<PathBuf, BoxError> {
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

/// Writes a key-encryption key to `key_file` with `strongroom keygen`,
/// unless it is already there.
pub(crate) fn ensure_key(server_bin: &Path, key_file: &Path) -> Result<(), BoxError> {
    if !key_file.exists() {
        let status = Command::new(server_bin)
            .arg("keygen")
            .arg(key_file)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("{} keygen failed", server_bin.display()).into());
        }
    }
    Ok(())
}

/// Starts `strongroom serve` on 127.0.0.1:--port with its log in the work
/// directory; returns the server and the log's path.
pub(crate) fn start(
    opts: &Opts,
    server_bin: &Path,
    key_file: &Path,
    database_url: &str,
) -> Result<(Guard, PathBuf), BoxError> {
    let log_path = opts
        .work_dir
        .join(format!("server-{:?}.log", opts.db).to_lowercase());
    let log = fs::File::create(&log_path)?;
    let mut command = pinned(opts.server_cpus.as_deref(), server_bin);
    command
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", opts.port))
        .arg("--database-url")
        .arg(database_url)
        .arg("--key-file")
        .arg(key_file)
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
    Ok((server, log_path))
}

pub(crate) async fn wait_for_health(endpoint: &str) -> Result<(), BoxError> {
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

/// CPU seconds (user + system) a process has used; assumes USER_HZ = 100.
pub(crate) fn cpu_secs(pid: &str) -> f64 {
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

pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
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
pub(crate) fn reset_peak_rss(pid: u32) {
    let _ = fs::write(format!("/proc/{pid}/clear_refs"), "5");
}
