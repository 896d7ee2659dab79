"""Sewerline: audit and compute sewer bills for wastewater utilities."""

__version__ = "0.1.0"
