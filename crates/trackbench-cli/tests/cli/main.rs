//! Integration tests of the real `trackbench` binary against real store folders.

mod compare;
mod runs;
mod util;
