"""Test mode: the embedded defaults or, with DATABASE_URL and REDIS_URL, PostgreSQL and Redis."""

from .base import *  # noqa: F403
from .base import STATIC_ROOT

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing: tests create many users
# Metered like every mode, so the mail failure metric is tested; messages land in mail.outbox.
METERED_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test run gets a fresh cache so rate limits from one test do not leak into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process, so tests see their effects at once; the Celery round-trip test switches
# this off and drives a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# whitenoise looks for the collected files at start-up; an empty folder is enough here.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The demo payment provider is available to tests (the browser test pays through it).
PAYMENTS_DEMO_PROVIDER = True
