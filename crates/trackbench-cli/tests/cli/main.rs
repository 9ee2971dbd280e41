//! Integration tests of the real `trackbench` binary against real store folders.

mod compare;
mod report;
mod runs;
mod train;
mod util;
