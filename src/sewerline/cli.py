"""Command line interface (placeholder until the audit command lands)."""

import click


@click.group()
def main() -> None:
    """Sewerline: audit sewer charges billed by a water utility."""
