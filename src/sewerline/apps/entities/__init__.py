"""Billing entities: the water utilities that bill sewer charges for the sewer utility."""
