"""The naive streaming pattern, as a baseline for the benchmarks (not used by the app)."""
