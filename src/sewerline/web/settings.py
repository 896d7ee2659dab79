"""Django settings of Sewerline, read from the environment.

Every setting has a documented default that runs on one machine with nothing to
install (SQLite, jobs in the web process). A deployment sets these variables:

- SEWERLINE_SECRET_KEY: the signing key; without it, the file secret_key in
  SEWERLINE_DATA_DIR, which `sewerline serve` creates on first start.
- SEWERLINE_DEBUG: true or false (default false).
- SEWERLINE_ALLOWED_HOSTS: comma-separated host names (default localhost,127.0.0.1).
- DATABASE_URL: e.g. postgres://user@127.0.0.1:5432/sewerline (default: SQLite file
  sewerline.sqlite3 in SEWERLINE_DATA_DIR).
- SEWERLINE_DATA_DIR: folder for the SQLite file and uploaded originals (default ./var).
- SEWERLINE_JOBS: inprocess (default) or celery; with celery, CELERY_BROKER_URL
  (default redis://127.0.0.1:6379/0).
- SEWERLINE_UPLOAD_MAX_MB: largest accepted upload in megabytes (default 200).

A value that cannot be parsed stops start-up with an error naming the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None


DEBUG = env_bool("SEWERLINE_DEBUG", False)
DATA_DIR = Path(os.environ.get("SEWERLINE_DATA_DIR", "var")).resolve()

# The key comes from the environment, or from the file that `sewerline serve` writes
# into the data folder on first start, so a local install needs no setup.
SECRET_KEY_FILE = DATA_DIR / "secret_key"
SECRET_KEY = os.environ.get("SEWERLINE_SECRET_KEY", "")
if not SECRET_KEY and SECRET_KEY_FILE.exists():
    SECRET_KEY = SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    raise ImproperlyConfigured(
        f"SEWERLINE_SECRET_KEY is not set and {SECRET_KEY_FILE} does not exist; set the "
        "variable to a long random string, or run `sewerline serve` once to create the file"
    )

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("SEWERLINE_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if host.strip()
]

MEDIA_ROOT = DATA_DIR / "uploads"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'sewerline.sqlite3'}",
        conn_max_age=60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "sewerline.apps.core",
    "sewerline.apps.entities",
    "sewerline.apps.profiles",
    "sewerline.apps.rates",
    "sewerline.apps.cycles",
    "sewerline.apps.imports",
    "sewerline.apps.jobs",
    "sewerline.apps.audits",
    "sewerline.apps.discrepancies",
    "sewerline.apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sewerline.apps.core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "sewerline.web.urls"
WSGI_APPLICATION = "sewerline.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sewerline.apps.core.context.roles",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("SEWERLINE_TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# The app serves its own CSS and JavaScript (no CDN), straight from the package.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

UPLOAD_MAX_BYTES = env_int("SEWERLINE_UPLOAD_MAX_MB", 200) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

JOBS = os.environ.get("SEWERLINE_JOBS", "inprocess")
if JOBS not in {"inprocess", "celery"}:
    raise ImproperlyConfigured(f"SEWERLINE_JOBS={JOBS!r}; use inprocess or celery")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sewerline API",
    "DESCRIPTION": "Billing entities, profiles, rate schedules, imports, audit runs, "
    "findings and discrepancies of a sewer utility.",
    "VERSION": "0.1.0",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"sewerline": {"handlers": ["console"], "level": "INFO"}},
}
