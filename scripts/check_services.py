"""Check the services the test suite needs, and say how to start a missing one.

PostgreSQL must answer at TEST_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/sewerline): the app tests run on it, and a missing
server fails the run instead of skipping those tests. Exit code 1 names what is missing.
"""

from __future__ import annotations

import os
import sys

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sewerline"


def check_postgres(url: str) -> str | None:
    """Return None when PostgreSQL answers at url, else what went wrong."""
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as connection:
            connection.execute("select 1")
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {admin_url}: {error}".strip()
    return None


def main() -> int:
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL)
    problem = check_postgres(url)
    if problem:
        print(f"error: {problem}\nStart PostgreSQL (trust authentication for the "
              "postgres user on 127.0.0.1:5432), or set TEST_POSTGRES_URL.", file=sys.stderr)
        return 1
    print(f"PostgreSQL answers at {url.rsplit('/', 1)[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
