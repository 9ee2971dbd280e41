//! Integration tests of trackbench-data, one binary with a module per concern.

mod data {
    pub mod bad_input;
    pub mod generate;
    pub mod merge;
    pub mod scipy;
    pub mod size;
    pub mod sketched;
}
