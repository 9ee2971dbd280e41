//! Integration tests of the server: each spawns the real `trackbench serve` binary on a free
//! loopback port over a real store in a temp folder and talks HTTP to it.

mod launch;
mod live;
mod load;
mod native;
mod odd_input;
mod security;
mod ui;
mod util;
