"""Tests OF the benchmark code (plans, reports, scenarios): these are the only tests that
import `benchmarks/`, because `benchmarks/` is what they test. Helpers that tests and
benchmarks share live in tests/support/, which imports nothing from `benchmarks/`.
"""
