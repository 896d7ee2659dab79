"""Background jobs (imports, audits) with progress, in-process or on Celery workers."""
