"""Audit runs of a billing cycle and the findings they produced."""
