//! `trackbench serve`: the HTTP server (native API, MLflow API, live events) over the store.

use std::net::IpAddr;

use clap::Args;
use trackbench_server::ServerConfig;

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
}

pub fn serve(ctx: &Ctx, args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = ServerConfig::new(ctx.store_dir.clone());
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
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let server = trackbench_server::bind(cfg).await?;
        println!("Trackbench server for {}", ctx.store_dir.display());
        println!("  open:  {}", server.login_url());
        println!("  API:   {}/api/v1  (Authorization: Bearer {})", server.base_url(), server.token);
        println!("  MLflow: MLFLOW_TRACKING_URI={} MLFLOW_TRACKING_TOKEN={}", server.base_url(), server.token);
        use std::io::Write;
        std::io::stdout().flush()?;
        server
            .serve(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })
}
