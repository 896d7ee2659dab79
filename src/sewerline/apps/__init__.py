"""Django apps of Sewerline, one per domain (profiles, rates, imports, audits, ...)."""
