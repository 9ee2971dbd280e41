"""Framework integrations, one module per framework; each imports its framework only when
that module is imported (``import trackbench`` never does)."""
