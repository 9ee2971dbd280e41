//! The reference trainer (`trackbench train`) as a launch target: which of its flags a launched
//! trainer job may set. The flags are defined by the CLI's `train` command (clap); a CLI test
//! checks this list against that definition, so the server's trainer jobs and the command cannot
//! drift apart.

/// `(JSON key, flag)` of every `trackbench train` flag a trainer job may set. The run-level
/// flags (`--device`, `--project`, `--name`, `--json`) are the launcher's to set.
pub const PARAMS: &[(&str, &str)] = &[
    ("backend", "--backend"),
    ("dataset", "--dataset"),
    ("samples", "--samples"),
    ("classes", "--classes"),
    ("dim", "--dim"),
    ("hidden", "--hidden"),
    ("lr", "--lr"),
    ("optimizer", "--optimizer"),
    ("batch_size", "--batch-size"),
    ("epochs", "--epochs"),
    ("seed", "--seed"),
];

/// The `trackbench train` flag of trainer parameter `key`.
pub fn flag(key: &str) -> Option<&'static str> {
    PARAMS.iter().find(|(k, _)| *k == key).map(|(_, f)| *f)
}
