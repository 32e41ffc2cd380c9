//! `ganetid`: the daemon of one node. On the master it owns the durable
//! store (config + job queue), runs jobs and serves LUXI; the node role
//! (hypervisor, storage) runs in-process behind the `NodeApi` trait.
//!
//! It runs in the foreground; `gnt-cluster init` (and operators' service
//! managers) start it in the background with its output in
//! `<root>/var/log/ganeti/ganetid.log`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use ganeti_types::Paths;

mod rapi;

#[derive(Debug, Parser)]
#[command(name = "ganetid", version, about = "ganeti-rs master and node daemon")]
struct Args {
    /// Root under which every cluster path lives (default: the standard FHS layout).
    #[arg(long, env = "GANETI_ROOT", default_value = "/")]
    root: PathBuf,
    /// Worker threads of the async runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seconds each hook script may run before it is killed and counts as
    /// failed (Ganeti has no such limit; a hung script held the job).
    #[arg(long, env = "GANETI_HOOK_TIMEOUT", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    hook_timeout: u64,
    #[command(flatten)]
    rapi: rapi::RapiArgs,
}

fn main() {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GANETI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .init();
    if let Err(e) = run(args) {
        tracing::error!("{e:#}");
        eprintln!("ganetid: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .max_blocking_threads(64)
        .thread_stack_size(512 * 1024)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let node_opts = ganeti_node::LocalNodeOptions {
        hook_timeout: Some(Duration::from_secs(args.hook_timeout)),
        ..Default::default()
    };
    rt.block_on(serve(Paths::new(&args.root), node_opts, args.rapi))
}

/// `config.data` is an export of the store, but operators read and
/// sometimes edit it. A copy that no longer parses means someone changed it
/// by hand: refuse to start (and so to overwrite it) until they decide.
fn check_config_export(paths: &Paths) -> Result<()> {
    let path = paths.config_data();
    let Ok(data) = std::fs::read(&path) else {
        return Ok(());
    };
    serde_json::from_slice::<ganeti_types::ConfigData>(&data).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid Ganeti configuration ({e}); it was probably edited by hand. \
             The cluster state itself is intact in {}; move the broken file away and start \
             again to have it rewritten from that state",
            path.display(),
            paths.store_dir().display()
        )
    })?;
    Ok(())
}

async fn serve(
    paths: Paths,
    node_opts: ganeti_node::LocalNodeOptions,
    rapi_args: rapi::RapiArgs,
) -> Result<()> {
    check_config_export(&paths)?;
    let node: Arc<dyn ganeti_node::NodeApi> = Arc::new(ganeti_node::LocalNode::with_options(
        paths.clone(),
        node_opts,
    ));
    let master =
        ganeti_master::Master::open(paths.clone(), node).context("cannot start the master")?;
    let interrupted = tokio::task::block_in_place(|| master.recover_interrupted_jobs())
        .map_err(|e| anyhow::anyhow!("cannot recover the job queue: {e}"))?;
    if !interrupted.is_empty() {
        tracing::warn!(
            "jobs interrupted by the previous daemon's end, now marked as failed: {interrupted:?}"
        );
    }
    tokio::task::block_in_place(|| master.export_now());
    let listener = ganeti_master::luxi::bind(&paths.master_socket())?;
    std::fs::write(
        paths.pid_file("ganetid"),
        format!("{}\n", std::process::id()),
    )
    .with_context(|| format!("cannot write {}", paths.pid_file("ganetid").display()))?;
    tracing::info!(
        "ganetid {} (Ganeti {}) serving {}",
        ganeti_types::SOFTWARE_VERSION,
        ganeti_types::GANETI_VERSION,
        paths.master_socket().display()
    );
    tokio::spawn(ganeti_master::jobs::run_scheduler(master.clone()));
    let server = tokio::spawn(ganeti_master::luxi::serve(master.clone(), listener));
    let rapi = (!rapi_args.disabled)
        .then(|| tokio::spawn(rapi::run(rapi_args, paths.clone(), master.clone())));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, stopping"),
    }
    server.abort();
    if let Some(r) = rapi {
        r.abort();
    }
    let _ = std::fs::remove_file(paths.master_socket());
    // Let running jobs finish a moment; anything still running is reported
    // as interrupted by the next start.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while master.running_jobs() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_file(paths.pid_file("ganetid"));
    Ok(())
}
