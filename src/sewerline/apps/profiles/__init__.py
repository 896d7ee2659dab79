"""Billing profiles: the sewer utility's own record of what each customer should pay."""
