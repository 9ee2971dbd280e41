//! `trackbench gc`: purge runs deleted long ago and artifact blobs nothing references, in a
//! store folder or a team store (`--store postgres://… --artifacts …`). A dry run (the
//! default) prints what would go; `--apply` removes it.

use clap::Args;
use trackbench_store::GcOptions;

use crate::Ctx;

#[derive(Args)]
pub struct GcArgs {
    /// Purge runs deleted more than this many days ago (with everything they logged)
    #[arg(long, default_value_t = 30.0, value_name = "DAYS")]
    older_than: f64,
    /// Remove for real (default: only report what would be removed)
    #[arg(long)]
    apply: bool,
    #[arg(long)]
    json: bool,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn gc(ctx: &Ctx, args: GcArgs) -> anyhow::Result<()> {
    if args.older_than.is_nan() || args.older_than < 0.0 {
        anyhow::bail!(trackbench_store::StoreError::Invalid {
            what: "--older-than",
            why: format!("{} is not a number of days >= 0", args.older_than),
        });
    }
    let opts = GcOptions {
        deleted_older_than_ms: Some((args.older_than * 86_400_000.0) as i64),
        dry_run: !args.apply,
        ..GcOptions::default()
    };
    let r = match ctx.team_pg()? {
        // The team store: rows in PostgreSQL, blobs in its object store.
        Some(mut pg) => pg.gc(&opts)?,
        None => ctx.open_local()?.gc(&opts)?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let verb = if r.dry_run { "would remove" } else { "removed" };
    println!(
        "{verb}: {} run(s) deleted more than {} day(s) ago, {} unreferenced blob(s) ({}), {} stale temporary file(s) ({})",
        r.runs_purged.len(),
        args.older_than,
        r.blobs_removed,
        mib(r.blob_bytes_freed),
        r.temp_files_removed,
        mib(r.temp_bytes_freed)
    );
    for id in &r.runs_purged {
        println!("  run {id}");
    }
    if r.dry_run {
        println!("(dry run: nothing was removed; run `trackbench gc --apply` to remove it)");
    }
    Ok(())
}
