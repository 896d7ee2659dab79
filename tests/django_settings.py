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

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
