"""Benchmarks of caretbot against a bare Bolt app; results go to docs/benchmarks.md."""
