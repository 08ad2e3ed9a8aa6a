"""Production: PostgreSQL, Redis and SMTP from the environment, HTTPS only, MFA for admins and finance."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, env, logging_config
from .variables import required_in_production

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be a random string of at least 50 characters.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Production never falls back to the embedded SQLite, filesystem broker or mail files, nor to the
# loopback address in email links: every variable the list marks as required must be set.
for required in required_in_production():
    if not env.str(required, default=""):
        raise ImproperlyConfigured(f"{required} must be set in production.")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(LOG_FORMAT)
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

PORTAL_MFA_REQUIRED = env.bool("PORTAL_MFA_REQUIRED", default=True)
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
# The web process, the worker and beat refuse to start while a deploy check fails (partner_portal.checks).
PORTAL_DEPLOY_CHECKS_AT_START = True
