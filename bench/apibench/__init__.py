"""The pieces of bench/api_bench.py: the generated catalog API under load and at scale."""
