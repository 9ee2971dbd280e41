//! `trackbench models`: the model registry from the command line. `ls` lists registered models
//! (latest version, aliases), `show NAME` a model's versions, `register RUN[:PATH]|m-ID NAME`
//! makes a new version (of a run's newest logged model, a path of its artifacts, or a logged
//! model), `alias NAME ALIAS VERSION` points an alias. The same store API serves the MLflow
//! registry endpoints, so what one writes the other reads.

use clap::Subcommand;
use trackbench_store::prelude::*;
use trackbench_store::{ModelVersion, NewModelVersion, StoreError};

use crate::{Ctx, output};

#[derive(Subcommand)]
pub enum ModelsCmd {
    /// List registered models with their latest version and aliases
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Show a registered model's versions: source, run, stage, aliases, tags
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Register a new version: RUN (its newest logged model, else its artifacts), RUN:PATH (a
    /// path of its artifacts) or a logged model id m-…; the registered model is created if new
    Register {
        #[arg(value_name = "RUN[:PATH]|MODEL_ID")]
        source: String,
        name: String,
        /// Point this alias at the new version
        #[arg(long)]
        alias: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Point ALIAS of registered model NAME at VERSION
    Alias {
        name: String,
        alias: String,
        #[arg(value_name = "VERSION")]
        number: i64,
    },
}

pub fn models(ctx: &Ctx, cmd: ModelsCmd) -> anyhow::Result<()> {
    match cmd {
        ModelsCmd::Ls { json } => ls(ctx, json),
        ModelsCmd::Show { name, json } => show(ctx, &name, json),
        ModelsCmd::Register { source, name, alias, json } => {
            let mut boxed = ctx.open()?;
            let store = boxed.as_mut();
            let v = register(&mut *store, &source, &name)?;
            let v = match alias {
                Some(a) => {
                    store.set_model_alias(&name, &a, v.version)?;
                    store.model_version(&name, v.version)?
                }
                None => v,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let e = output::escape;
                println!("registered {} version {} from {}", e(&v.name), v.version, e(&v.source));
            }
            Ok(())
        }
        ModelsCmd::Alias { name, alias, number } => {
            let mut boxed = ctx.open()?;
            let store = boxed.as_mut();
            store.set_model_alias(&name, &alias, number)?;
            println!("{}@{} -> version {number}", output::escape(&name), output::escape(&alias));
            Ok(())
        }
    }
}

/// The version `source` makes: a logged model id, `RUN:PATH`, or `RUN` (its newest logged
/// model, else its artifact root).
fn register(store: &mut dyn Backend, source: &str, name: &str) -> anyhow::Result<ModelVersion> {
    let (run, logged_model, src) = if source.starts_with("m-") {
        let m = store.logged_model(source)?;
        (m.source_run.clone(), Some(m.id.clone()), format!("models:/{}", m.id))
    } else {
        let (what, path) = source.split_once(':').unwrap_or((source, ""));
        let run = store.run(&store.resolve_run(what)?)?;
        let path = path.trim_matches('/');
        if path.is_empty() {
            let newest = store.logged_models_of_run(&run.id)?.into_iter().next();
            match newest {
                Some(m) => (Some(run.id.clone()), Some(m.id.clone()), format!("models:/{}", m.id)),
                None => (Some(run.id.clone()), None, format!("runs:/{}", run.id)),
            }
        } else {
            let path = trackbench_store::validate::artifact_path(path)?;
            let prefix = format!("{path}/");
            if !store.artifacts(&run.id)?.iter().any(|a| a.path == path || a.path.starts_with(&prefix)) {
                return Err(StoreError::ArtifactNotFound(format!("{}/{path}", run.id)).into());
            }
            (Some(run.id.clone()), None, format!("runs:/{}/{path}", run.id))
        }
    };
    match store.registered_model(name) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            store.create_registered_model(name, None, &[])?;
        }
        Err(e) => return Err(e.into()),
    }
    let new = NewModelVersion { name: name.to_string(), source: src, run, logged_model, ..NewModelVersion::default() };
    Ok(store.create_model_version(&new)?)
}

fn ls(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let boxed = ctx.open()?;
    let store = boxed.as_ref();
    let models = store.registered_models()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&models)?);
        return Ok(());
    }
    let e = output::escape;
    let mut rows = Vec::new();
    for m in &models {
        let versions = store.model_versions(Some(&m.name))?;
        let latest = versions.last().map(|v| v.version.to_string()).unwrap_or_else(|| "-".into());
        let aliases: Vec<String> = m.aliases.iter().map(|(a, v)| format!("{a}=v{v}")).collect();
        rows.push(vec![
            e(&m.name).into_owned(),
            versions.len().to_string(),
            latest,
            e(&aliases.join(" ")).into_owned(),
            output::time(m.updated_ms),
        ]);
    }
    print!("{}", output::table(&["NAME", "VERSIONS", "LATEST", "ALIASES", "UPDATED"], &rows));
    Ok(())
}

fn show(ctx: &Ctx, name: &str, json: bool) -> anyhow::Result<()> {
    let boxed = ctx.open()?;
    let store = boxed.as_ref();
    let m = store.registered_model(name)?;
    let versions = store.model_versions(Some(name))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "model": m, "versions": versions }))?);
        return Ok(());
    }
    let e = output::escape;
    println!("{}", e(&m.name));
    if let Some(d) = &m.description {
        println!("{}", e(d));
    }
    for (k, v) in &m.tags {
        println!("tag {}={}", e(k), e(v));
    }
    let rows: Vec<Vec<String>> = versions
        .iter()
        .rev()
        .map(|v| {
            let tags: Vec<String> = v.tags.iter().map(|(k, x)| format!("{k}={x}")).collect();
            vec![
                v.version.to_string(),
                e(&v.aliases.join(" ")).into_owned(),
                v.stage.clone(),
                v.run.clone().unwrap_or_else(|| "-".into()),
                e(&v.source).into_owned(),
                e(&tags.join(" ")).into_owned(),
                output::time(v.created_ms),
            ]
        })
        .collect();
    println!();
    print!("{}", output::table(&["VERSION", "ALIASES", "STAGE", "RUN", "SOURCE", "TAGS", "CREATED"], &rows));
    Ok(())
}
