"""Django settings for the test suite: the product's settings with a throwaway key.

The database comes from DATABASE_URL as in production, so `make test` runs the app
tests once on SQLite and once on PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SEWERLINE_SECRET_KEY", "test-suite-only-not-secret")
os.environ.setdefault("SEWERLINE_DATA_DIR", tempfile.mkdtemp(prefix="sewerline-test-"))

from sewerline.web.settings import *  # noqa: E402,F403

# WhiteNoise warns when the collected-static folder is missing; tests serve from the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Background job threads write while the test (or the live server) has a connection open.
# An in-memory SQLite database shares one cache between threads and fails at once with
# "database table is locked". A file-based database waits for the lock, up to the timeout.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.mkdtemp(prefix="sewerline-test-db-"), "test.sqlite3"),
    }
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
