"""The embedded mode used by `make demo` and local work: no server needed, MFA optional."""

from .base import *  # noqa: F403
from .base import STATIC_ROOT, env

DEBUG = env.bool("DEBUG", default=True)
# Serve static files without a collectstatic step in the demo.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# whitenoise looks for the collected files at start-up; an empty folder is enough here.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The demo payment provider plays Stripe's hosted checkout inside the portal: no keys needed.
PAYMENTS_DEMO_PROVIDER = env.bool("PAYMENTS_DEMO_PROVIDER", default=True)
