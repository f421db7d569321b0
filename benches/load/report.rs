//! The report: its header, the seeding line, each phase's progress line,
//! the table of phases beside the Health/Check baseline, and the server's
//! peak at exit.

use std::fmt::Write as _;

use crate::phase::{Ctx, Figures, Rpc};
use crate::{BoxError, Opts};

/// The report's first line: the run's settings.
pub(crate) fn header(report: &mut String, opts: &Opts) -> Result<(), BoxError> {
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
    Ok(())
}

/// How the seeding went: its rate, the storage it took, and the server's
/// peak RSS after it.
pub(crate) fn seeded(
    report: &mut String,
    opts: &Opts,
    seed_secs: f64,
    bytes: u64,
    peak_kib: u64,
) -> Result<(), BoxError> {
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
        peak_kib
    )?;
    Ok(())
}

/// One phase's figures on stderr as soon as it ends.
pub(crate) fn progress(ctx: &Ctx, figures: &Figures) {
    eprintln!(
        "{:<26} {:>9.0} ops/s p50 {:>6} us p99 {:>6} us p99.9 {:>6} us errors {}",
        figures.rpc.label(ctx.deep_page_reached),
        figures.ops_per_sec(),
        figures.p50_us,
        figures.p99_us,
        figures.p999_us,
        figures.error_count()
    );
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

pub(crate) fn table(report: &mut String, ctx: &Ctx, results: &[Figures]) -> Result<(), BoxError> {
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

/// The server's peak RSS over the whole run, read just before it stopped.
pub(crate) fn server_peak(report: &mut String, peak_kib: u64) -> Result<(), BoxError> {
    writeln!(report)?;
    writeln!(
        report,
        "server VmHWM at exit (whole run, including seeding): {:.1} MiB",
        peak_kib as f64 / 1024.0
    )?;
    Ok(())
}
