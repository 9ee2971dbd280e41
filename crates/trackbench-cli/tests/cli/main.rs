//! Integration tests of the real `trackbench` binary against real store folders.

mod compare;
mod drift;
mod hardening;
mod import;
mod launch;
mod models;
mod push;
mod report;
mod report_drift;
mod runs;
mod slurm;
mod store_copy;
mod train;
mod ui;
mod ui_login;
mod ui_server;
mod users;
mod util;
