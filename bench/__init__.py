"""Benchmarks: `python -m bench NAME [options]` (or `make bench BENCH_ARGS="NAME ..."`)."""
