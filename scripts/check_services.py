"""Check the services the test suite needs, starting Redis when it is not running.

PostgreSQL must accept connections at TEST_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/sewerline): the app tests run on it, and a missing
server fails the run instead of skipping those tests. Redis (the job queue of the
Celery test) is started on 127.0.0.1:6379 with no persistence when no server accepts
connections there. Exit code 1 names what is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sewerline"


def check_postgres(url: str) -> str | None:
    """Return None when PostgreSQL accepts a connection at url, else what went wrong."""
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as connection:
            connection.execute("select 1")
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {admin_url}: {error}".strip()
    return None


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ensure_redis(host: str = "127.0.0.1", port: int = 6379) -> str | None:
    """Start a throwaway Redis on loopback unless one is running; return a problem or None."""
    if port_open(host, port):
        return None
    server = shutil.which("redis-server")
    if server is None:
        return ("Redis is not running and redis-server is not installed "
                "(apt-get install redis-server)")
    subprocess.run([server, "--daemonize", "yes", "--bind", host, "--port", str(port),
                    "--save", "", "--appendonly", "no"], check=True)
    for _ in range(50):
        if port_open(host, port):
            return None
        time.sleep(0.1)
    return f"redis-server was started but does not answer on {host}:{port}"


def main() -> int:
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL)
    problem = check_postgres(url)
    if problem:
        print(f"error: {problem}\nStart PostgreSQL (trust authentication for the "
              "postgres user on 127.0.0.1:5432), or set TEST_POSTGRES_URL.", file=sys.stderr)
        return 1
    print(f"PostgreSQL accepts connections at {url.rsplit('/', 1)[0]}")
    problem = ensure_redis()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print("Redis accepts connections at 127.0.0.1:6379")
    return 0


if __name__ == "__main__":
    sys.exit(main())
