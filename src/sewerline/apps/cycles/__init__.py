"""Billing cycles of each entity, with the budgeted sewer revenue of each cycle."""
