"""Benchmarks of aigov against bare baselines (issue 7); run with ``make bench``, never by ``make test``."""
