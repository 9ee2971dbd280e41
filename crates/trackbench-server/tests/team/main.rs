//! The team server, as a team runs it: real `trackbench serve` processes (replicas) on free
//! loopback ports over one PostgreSQL database and one artifact store.
//!
//! The database is a fresh one per test on the server named by `TRACKBENCH_TEST_POSTGRES` (an
//! admin URL; `cargo xtask test` starts a throwaway cluster); without it every test here is
//! skipped and says so. Artifacts go to the S3 server named by `TRACKBENCH_TEST_S3` (moto,
//! under a prefix of the test's own), else to a `file://` folder (said too).
//!
//! - `access`: the permission table over every route (shared with the SQLite tests), and a
//!   revoked token refused at once by every replica.
//! - `replicas`: two replicas share runs, batches (a retry through the other one stored once),
//!   live events and artifacts.
//! - `scale`: 16 writers over both replicas for a fixed time, one replica killed midway:
//!   every acknowledged point stored exactly once.
//! - `faults`: a database or bucket that is not there at start, and a database lost mid-run
//!   while the SDK logs.
//! - `data`: logged datasets and drift read through a `--readonly` replica.
//! - `readonly`: a `--readonly` replica reads and refuses writes; health reports the database
//!   and the artifact store.
//! - `wire`: the SDK's binary batches (and its JSON ones) on a SQLite store and on this one:
//!   every point bit-exact, bad bodies refused with nothing stored, a resent batch stored once.

mod access;
mod data;
mod faults;
mod readonly;
mod replicas;
mod scale;
mod util;
mod wire;
