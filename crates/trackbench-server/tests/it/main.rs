//! Integration tests of the server: most spawn the real `trackbench serve` binary on a free
//! loopback port over a real store in a temp folder and talk HTTP to it; `slow_clients` runs
//! the server in this process (to set short timeouts) on a real port, and `fuzz` drives the
//! router directly.

mod fuzz;
mod launch;
mod live;
mod load;
mod native;
mod odd_input;
mod security;
mod slow_clients;
mod ui;
mod util;
