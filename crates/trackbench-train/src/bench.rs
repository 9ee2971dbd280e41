//! Throughput benchmarks. Placeholder until the backends land.
