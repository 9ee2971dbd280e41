//! The crate's one integration-test binary: the scipy reference table, the bootstrap, the error
//! cases, the A/B verdicts and property tests, one module each.

mod bootstrap;
mod compare;
mod errors;
mod props;
mod reference;
