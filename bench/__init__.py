"""Benchmarks of the platform: a reusable harness (``bench.harness``) and the runs built on it.

Run one with ``.venv/bin/python -m bench.<name>``; see ``bench/README.md``.
"""
