//! `trackbench serve`: the HTTP server (native API, MLflow API, live events) over the store.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use trackbench_server::launch::{DeviceInfo, SlurmConfig};
use trackbench_server::{BoundServer, ServerConfig};

use crate::Ctx;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to bind (127.0.0.1 keeps the server on this machine)
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port (0 picks a free one)
    #[arg(long, default_value_t = 5005)]
    port: u16,
    /// Largest JSON request body, in MiB
    #[arg(long, default_value_t = 32)]
    max_body_mib: usize,
    /// Let clients launch jobs (any command, on this machine) even when listening on a
    /// non-loopback address; on loopback launching is always on
    #[arg(long)]
    allow_launch: bool,
    /// Launched jobs at once on the CPU [default: half the cores, at least 1]
    #[arg(long, value_name = "N")]
    cpu_slots: Option<usize>,
    /// Launched jobs at once per GPU
    #[arg(long, value_name = "N", default_value_t = 1)]
    gpu_slots: usize,
    /// Connections served at once; more wait to be accepted
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers (also how long an idle connection
    /// stays open)
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// Refuse every write (a dashboard replica of a team server)
    #[arg(long)]
    readonly: bool,
    /// Offer a Slurm cluster as a launch backend: clients holding the token may submit jobs
    /// (any command) to it as this user, through the Slurm client commands on PATH. Allowed on
    /// a team store too (the cluster runs the commands, not this machine)
    #[arg(long)]
    slurm: bool,
    /// The URL the Slurm tasks log to, as the nodes reach this server [default: the server's
    /// own address, which nodes other than this machine do not reach on 127.0.0.1]
    #[arg(long, value_name = "URL", requires = "slurm")]
    slurm_public_url: Option<String>,
    /// The trackbench executable as the nodes see it (on a shared filesystem) [default: this
    /// one's path]
    #[arg(long, value_name = "PATH", requires = "slurm")]
    slurm_trackbench: Option<PathBuf>,
}

pub fn serve(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = ServerConfig::new(ctx.store_dir.clone());
    cfg.team = ctx.team_store()?;
    cfg.readonly = args.readonly;
    cfg.opts = ctx.opts.clone();
    cfg.host = args.host;
    cfg.port = args.port;
    cfg.max_body = args.max_body_mib << 20;
    cfg.token = std::env::var("TRACKBENCH_TOKEN").ok().filter(|t| !t.is_empty());
    if args.host.is_unspecified() {
        eprintln!(
            "warning: listening on every network interface ({}); anyone who can reach this machine and \
             knows the token can read and write your runs",
            args.host
        );
    }
    cfg.allow_launch = args.allow_launch;
    if let Some(n) = args.cpu_slots {
        cfg.launch.limits.cpu = n.max(1);
    }
    cfg.launch.limits.per_gpu = args.gpu_slots.max(1);
    cfg.conn.max_connections = args.max_connections.max(1);
    cfg.conn.header_read_timeout = std::time::Duration::from_secs(args.header_timeout.max(1));
    if args.allow_launch && !args.host.is_loopback() {
        eprintln!(
            "warning: --allow-launch on {}: anyone who can reach this machine and knows the token can run \
             any command on it as you",
            args.host
        );
    }
    with_trainer(&mut cfg);
    if args.slurm {
        let bin = match args.slurm_trackbench {
            Some(p) => p,
            None => std::env::current_exe().context("finding this trackbench executable")?,
        };
        let url = args.slurm_public_url.map(|u| u.trim_end_matches('/').to_string());
        if url.is_none() && (args.host.is_loopback() || args.host.is_unspecified()) {
            eprintln!(
                "note: Slurm tasks log to this server at 127.0.0.1, which only tasks running on this machine reach; \
                 give --slurm-public-url http://HOST:PORT for a cluster's other nodes"
            );
        }
        if !args.host.is_loopback() {
            eprintln!(
                "warning: --slurm on {}: anyone who can reach this machine and knows the token can run any \
                 command on the cluster as you",
                args.host
            );
        }
        cfg.launch.slurm = Some(SlurmConfig::new(url, bin));
    }
    let serving = match &cfg.team {
        Some(team) => format!("the team store {}", team.describe()),
        None => ctx.store_dir.display().to_string(),
    };
    let slurm = cfg.launch.slurm.clone();
    run_until_ctrl_c(cfg, |server| {
        println!("Trackbench server for {serving}");
        println!("  open:  {}", server.login_url());
        println!("  API:   {}/api/v1  (Authorization: Bearer {})", server.base_url(), server.token);
        println!("  MLflow: MLFLOW_TRACKING_URI={} MLFLOW_TRACKING_TOKEN={}", server.base_url(), server.token);
        if let Some(s) = &slurm {
            let url = s.public_url.clone().unwrap_or_else(|| server.base_url());
            println!("  Slurm: launches go to the cluster; tasks run {} and log to {url}", s.trackbench.display());
        }
        Ok(())
    })
}

/// What a server this CLI starts launches with: trainer jobs run this executable's `train`,
/// and the device list is the trainer's probe (wgpu adapters and CUDA devices), as
/// `trackbench doctor` shows it.
pub fn with_trainer(cfg: &mut ServerConfig) {
    cfg.launch.trainer = std::env::current_exe().ok();
    cfg.launch.probe = Some(std::sync::Arc::new(device_list));
}

/// Binds `cfg`, calls `started` (which prints what the user needs), flushes stdout and serves
/// until Ctrl-C or SIGTERM (what systemd, Docker and Kubernetes send to stop a replica): a
/// graceful stop, in which requests in flight (a batch being stored) finish before it exits.
pub fn run_until_ctrl_c(
    cfg: ServerConfig,
    started: impl FnOnce(&BoundServer) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let server = trackbench_server::bind(cfg).await?;
        // Known now that the port is (port 0 picks one): the Slurm tasks' default server.
        server.state.launcher.set_base_url(server.base_url());
        started(&server)?;
        use std::io::Write;
        std::io::stdout().flush()?;
        server
            .serve(async {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                let terminated = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminated => {}
                }
            })
            .await?;
        anyhow::Ok(())
    })
}

/// The launcher's devices with the names the trainer's probe knows.
fn device_list() -> Vec<DeviceInfo> {
    let d = trackbench_train::devices::list();
    let mut out: Vec<DeviceInfo> =
        trackbench_server::launch::default_devices().into_iter().filter(|x| x.kind == "cpu").collect();
    for c in &d.cuda {
        out.push(DeviceInfo {
            id: format!("cuda:{}", c.index),
            kind: "cuda".into(),
            name: c.name.clone(),
            detail: format!("{} MiB", c.memory_bytes >> 20),
        });
    }
    if d.cuda.is_empty() {
        // The driver may list GPUs the CUDA libraries cannot open; say why next to them.
        for mut x in trackbench_server::launch::default_devices().into_iter().filter(|x| x.kind == "cuda") {
            x.detail = d.cuda_missing.clone().unwrap_or(x.detail);
            out.push(x);
        }
    }
    for a in &d.wgpu {
        // The same adapter through a second API (lavapipe under Vulkan, llvmpipe under GL) has
        // the same name: `wgpu:NAME` selects the first (primary API), so list only that one.
        if out.iter().any(|x| x.id == format!("wgpu:{}", a.name)) {
            continue;
        }
        let cpu = if a.hardware { "" } else { ", CPU implementation" };
        out.push(DeviceInfo {
            id: format!("wgpu:{}", a.name),
            kind: "wgpu".into(),
            name: a.name.clone(),
            detail: format!("{}, {}{cpu} {}", a.api, a.kind, a.driver).trim_end().to_string(),
        });
    }
    out
}
