"""Benchmarks: throughput, latency, memory and scale (`python -m bench --help`)."""
