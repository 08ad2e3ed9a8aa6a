"""Every environment variable the settings read, in one list.

The settings read the environment only through `env` below, which refuses a name that is not declared
here: a new setting cannot reach the code without reaching this list, and tests check that
docker-compose.yml passes each one to web, worker, beat and migrate and that .env.example and
docs/operations.md name each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as an operator would write it in .env; "" when unset means "empty"
    required_in_production: bool
    meaning: str
    # Fixed by docker-compose.yml for the bundled services (its `environment:` wins over .env).
    fixed_in_compose: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("DJANGO_SETTINGS_MODULE", "config.settings.dev", False,
             "settings mode; chosen before .env is read, so it must be in the process environment",
             fixed_in_compose=True),
    Variable("SECRET_KEY", "", True, "signing key: random, at least 50 characters, not starting with 'insecure'"),
    Variable("DEBUG", "false", False, "dev mode only; production always runs with DEBUG off"),
    Variable("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver", True, "host names the portal answers to"),
    Variable("CSRF_TRUSTED_ORIGINS", "", False, "extra origins allowed to submit forms"),
    Variable("DATABASE_URL", "", True, "PostgreSQL URL; unset means the embedded SQLite", fixed_in_compose=True),
    Variable("CONN_MAX_AGE", "60", False, "seconds a process keeps its database connection"),
    Variable("REDIS_URL", "", True, "Redis URL for broker, results and cache; unset means the filesystem broker",
             fixed_in_compose=True),
    Variable("EMAIL_URL", "", True, "SMTP server URL; unset means mail written as files"),
    Variable("CELERY_TASK_DEFAULT_QUEUE", "celery", False, "the queue tasks are sent to and workers read"),
    Variable("INVOICE_EXPORT_PART_SIZE", "100", False,
             "invoices per part of a bulk PDF export: larger exports are shared among the workers"),
    Variable("PARTNER_CENTER_BACKEND", "record", False,
             "'http' calls Partner Center; 'record' records changes as confirmed without calling Microsoft"),
    Variable("PARTNER_CENTER_RECORD_ONLY", "false", False,
             "true: the record backend on purpose in production (staff see that Microsoft is not called)"),
    Variable("PARTNER_CENTER_API_URL", "", False, "Partner Center API host; empty means the partner's cloud"),
    Variable("PARTNER_CENTER_AUTHORITY_URL", "", False, "sign-in authority; empty means the partner's cloud"),
    Variable("PARTNER_CENTER_CA_BUNDLE", "", False, "PEM file of certificate authorities trusted for Microsoft"),
    Variable("PARTNER_CENTER_TIMEOUT_SECONDS", "30", False, "read time-out of one Partner Center call"),
    Variable("PARTNER_CENTER_CONNECT_TIMEOUT_SECONDS", "10", False, "connect time-out of one Partner Center call"),
    Variable("PARTNER_CENTER_CALL_TRIES", "3", False, "tries of one call on a 5xx or time-out"),
    Variable("PARTNER_CENTER_CALL_BACKOFF_SECONDS", "1", False, "first pause between those tries"),
    Variable("PARTNER_CENTER_MAX_ATTEMPTS", "8", False, "attempts of one change before it is shown as failed"),
    Variable("PARTNER_CENTER_RETRY_BASE_SECONDS", "60", False, "pause after attempt n is base x 2^(n-1)"),
    Variable("PARTNER_CENTER_POLL_SECONDS", "2", False, "pause between polls of a 202's Location"),
    Variable("PARTNER_CENTER_POLL_TRIES", "10", False, "polls of a 202's Location"),
    Variable("PARTNER_CENTER_SECRET_KEY", "", False, "key encrypting partners' client secrets; derived from SECRET_KEY"),
    Variable("STRIPE_API_URL", "https://api.stripe.com", False, "Stripe's API host; set only for a test double"),
    Variable("STRIPE_CA_BUNDLE", "", False, "PEM file of certificate authorities trusted for Stripe"),
    Variable("STRIPE_TIMEOUT_SECONDS", "20", False, "time-out of one call to Stripe"),
    Variable("PAYMENTS_DEMO_PROVIDER", "false", False,
             "true: the demo payment provider inside the portal may be chosen (development and the demo)"),
    Variable("STORECOVE_API_URL", "https://api.storecove.com/api/v2", False,
             "Storecove's API (Peppol sending); set only for a test double"),
    Variable("STORECOVE_CA_BUNDLE", "", False, "PEM file of certificate authorities trusted for Storecove"),
    Variable("STORECOVE_TIMEOUT_SECONDS", "20", False, "time-out of one call to Storecove"),
    Variable("STORECOVE_WEBHOOKS_PULL", "false", False,
             "true: the retry sweep also pulls Storecove's queued webhooks (when Storecove cannot reach the portal)"),
    Variable("PEPPOL_MAX_ATTEMPTS", "8", False, "attempts to send one document over Peppol before it fails"),
    Variable("PEPPOL_RETRY_BASE_SECONDS", "60", False, "pause after the first failed attempt; doubles each time"),
    Variable("PAY_LINK_MAX_AGE_DAYS", "60", False, "days a pay link in an email stays valid"),
    Variable("SUPPORT_MAILBOX_CA_BUNDLE", "", False, "PEM file of certificate authorities trusted for support mailboxes"),
    Variable("SUPPORT_MAILBOX_TIMEOUT_SECONDS", "30", False, "time-out of one call to a support mailbox (IMAP)"),
    Variable("DEFAULT_FROM_EMAIL", "CSP Billing Portal <no-reply@portal.example>", False, "sender of every email"),
    Variable("PORTAL_BASE_URL", "http://127.0.0.1:8000", True, "the portal's public address, for links in emails"),
    Variable("TRUSTED_PROXY_COUNT", "0", False, "number of reverse proxies in front of the portal"),
    Variable("PORTAL_MFA_REQUIRED", "false", False, "partner admins and finance must enrol TOTP"),
    Variable("API_TOKEN_TTL_DAYS", "30", False, "days an API token is valid after it is issued"),
    Variable("API_DOCS_PUBLIC", "true", False,
             "/api/schema/ and /api/docs/ without sign-in; production default false (signed-in staff only)"),
    Variable("TIME_ZONE", "UTC", False, "default time zone where no partner time zone applies"),
    Variable("LOG_LEVEL", "INFO", False, "application log level"),
    Variable("LOG_FORMAT", "text", False,
             "json: one JSON object per log line (production default); text: plain lines (development default)"),
    Variable("PORTAL_VAR_DIR", "var", False, "directory of the portal's files (media/)", fixed_in_compose=True),
    Variable("STATIC_ROOT", "staticfiles", False, "where collectstatic puts the static files (production)"),
    Variable("SECURE_SSL_REDIRECT", "true", False, "redirect plain HTTP to HTTPS (production)"),
    Variable("SECURE_HSTS_SECONDS", "31536000", False, "HSTS max-age in seconds (production)"),
    Variable("SECURE_HSTS_PRELOAD", "true", False, "HSTS preload flag (production)"),
    Variable("SENTRY_DSN", "", False, "Sentry project DSN; errors from web and worker are sent there when set"),
    Variable("SENTRY_ENVIRONMENT", "production", False, "environment tag of every Sentry event"),
    Variable("SENTRY_RELEASE", "csp-billing-portal@<version>", False, "release tag of every Sentry event"),
    Variable("METRICS_TOKEN", "", False, "bearer token Prometheus sends to /metrics; empty turns the endpoint off"),
    Variable("PROMETHEUS_MULTIPROC_DIR", "", False, "directory where gunicorn's processes share request metrics"),
    Variable("GUNICORN_WORKERS", "3", False, "gunicorn processes per web container (image only)"),
    Variable("GUNICORN_TIMEOUT", "60", False, "seconds before gunicorn restarts a stuck worker (image only)"),
)  # fmt: skip

BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}


class DeclaredEnv(environ.Env):
    """django-environ's reader, refusing any name not declared in VARIABLES."""

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False
    ) -> Any:
        if var not in BY_NAME:
            raise ImproperlyConfigured(
                f"{var} is read by the settings but not declared in config/settings/variables.py"
            )
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = DeclaredEnv()


def required_in_production() -> list[str]:
    return [v.name for v in VARIABLES if v.required_in_production]
