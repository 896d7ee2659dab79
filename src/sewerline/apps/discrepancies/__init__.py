"""Discrepancies: findings that persist across cycles, tracked with the billing entity."""
