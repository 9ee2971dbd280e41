//! Integration tests of the store against real SQLite files in temp folders.

mod ab;
mod artifacts;
mod gc;
mod liveness;
mod migrations;
mod models;
mod projects;
mod series;
mod util;
