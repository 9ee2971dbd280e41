//! Integration tests of the real `trackbench` binary against real store folders.

mod runs;
mod util;
