"""The audit engine: ingest, rate, match, compare and report, on Polars tables.

This package imports nothing from Django or any web framework, so a notebook, the
CLI, a worker and the web application can all call it the same way.
"""
