"""`sewerline serve` and `sewerline manage`: run the web application."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click


def prepare_django() -> None:
    """Point Django at Sewerline's settings, creating a local secret key on first use."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sewerline.web.settings")
    if not os.environ.get("SEWERLINE_SECRET_KEY"):
        data_dir = Path(os.environ.get("SEWERLINE_DATA_DIR", "var")).resolve()
        key_file = data_dir / "secret_key"
        if not key_file.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            key_file.chmod(0o600)
    import django

    django.setup()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep 127.0.0.1 unless behind a proxy.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port to listen on.")
def serve(host: str, port: int) -> None:
    """Apply database migrations and start the staff web application.

    Uses Django's development server, which suits one office; see the README for a
    production setup.
    """
    prepare_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("runserver", f"{host}:{port}", use_reloader=False)


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def manage(arguments: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `sewerline manage createsuperuser`."""
    prepare_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sewerline manage", *arguments])
