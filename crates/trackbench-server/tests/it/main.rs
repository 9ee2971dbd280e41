//! Integration tests of the server, at two levels. The router in this process (`util::App`,
//! driven with `oneshot`; `fuzz` too) for what the API does, fast and hermetic; the real
//! `trackbench serve` binary on a free loopback port (`util::Server`) for what HTTP and the
//! process do: headers, hosts, timeouts, flags, live events, signals. `slow_clients` runs the
//! server in this process on a real port, to set short timeouts. Every test uses a real store
//! in a temp folder.

mod access;
mod data;
mod fuzz;
mod launch;
mod live;
mod load;
mod models;
mod native;
mod odd_input;
mod security;
mod shutdown;
mod slow_clients;
mod slurm;
mod ui;
mod util;
