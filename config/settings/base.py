"""Settings shared by every mode, read from the environment.

With nothing set the portal runs embedded: SQLite under var/, a Celery broker on the filesystem
(worker and beat really run, no server needed), emails written to var/mail/. DATABASE_URL, REDIS_URL
and EMAIL_URL switch to PostgreSQL, Redis and SMTP. Every variable read here is declared in
variables.py (and listed in docs/operations.md); `env` refuses any other.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .variables import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="insecure-embedded-only-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The portal, in dependency order (docs/architecture.md): core <- subscriptions <- billing <- tickets
    # <- escalation <- dashboards (the pages that compose several apps).
    "partner_portal",
    "subscriptions",
    "billing",
    "tickets",
    "escalation",
    "dashboards",
]

MIDDLEWARE = [
    "partner_portal.middleware.RequestIdMiddleware",
    "config.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "partner_portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "partner_portal.middleware.UserLanguageMiddleware",
    "partner_portal.middleware.StaffSessionTimeoutMiddleware",
    "partner_portal.middleware.MfaRequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "partner_portal.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partner_portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is shared by the web server, the worker and beat in the embedded setup: WAL journal,
# IMMEDIATE transactions and a busy timeout keep them from failing with "database is locked".
SQLITE_OPTIONS: dict[str, object] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A task not acknowledged within this time is delivered again; longer than the longest job.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 6 * 60 * 60}
else:
    # A file cache is shared by the web server and the workers, so login rate limits hold across them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }
    # The filesystem transport needs no server: messages are files under var/celery/.
    # The transport ignores the host; naming one keeps Kombu from warning that none was given.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Broadcast (worker control) exchanges; Kombu's default is a "control" folder in the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    for folder in ("queue", "processed", "results", "control"):
        (VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)

# A bulk PDF export of more invoices than this is cut into parts of this size, one task each, so that
# every free worker renders a share; the last part done merges them into one ZIP.
INVOICE_EXPORT_PART_SIZE = env.int("INVOICE_EXPORT_PART_SIZE", default=100)

CELERY_TASK_ACKS_LATE = True
# The queue tasks go to unless routed elsewhere; workers of one installation share it (tests use a private one).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One schedule for the whole portal. Times are UTC (CELERY_TIMEZONE); every job is idempotent, so a
# missed or doubled beat does no harm.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # 14:00 UTC on the 1st: the previous month has ended in every time zone (UTC-12 to UTC+14).
    "invoices-generate-monthly": {
        "task": "billing.tasks.invoices_generate_task",
        "schedule": crontab(minute=0, hour=14, day_of_month=1),
    },
    # 15:00 UTC on the 1st, an hour after invoice generation: support time and per-incident charges of
    # the previous month go on the drafts generation made (a new draft only for customers without one).
    # Each time entry and incident is billed once, so a doubled or late beat bills nothing twice.
    "support-charges-bill-monthly": {
        "task": "tickets.tasks.support_charges_bill_task",
        "schedule": crontab(minute=0, hour=15, day_of_month=1),
    },
    # Every 5 minutes: re-push subscription changes still waiting for Microsoft (a 5xx, a time-out,
    # a worker that died mid-call, a task lost between commit and queue). Each change backs off by its
    # attempts, so a Partner Center outage is not hammered; a claimed change is never pushed twice.
    "subscription-changes-retry": {
        "task": "subscriptions.tasks.subscription_changes_retry_task",
        "schedule": crontab(minute="*/5"),
    },
    # 02:30 UTC nightly: read every partner's customers and subscriptions from Partner Center (new
    # ones created, Microsoft's term and status recorded, differences listed for staff), at night for
    # the Americas and Europe and well before the 07:00 collections run, which then suspends against
    # what Microsoft has. One sync per partner at a time; a second beat finds it running and waits.
    "partner-center-sync-nightly": {
        "task": "subscriptions.tasks.partner_center_syncs_run_task",
        "schedule": crontab(minute=30, hour=2),
    },
    # 07:00 UTC daily: the collections run, one task per partner for the partner's own date (morning in
    # Europe, before business hours in the Americas). Re-running the same day sends nothing twice.
    "collections-run-daily": {
        "task": "billing.tasks.collections_run_task",
        "schedule": crontab(minute=0, hour=7),
    },
    # 06:00 UTC daily: autopay charges the invoices due on each partner's date with the customer's saved
    # card, an hour before the collections run, so a charge that went through is not chased. Each charge
    # is claimed and keyed (invoice and attempt) for the provider, so a doubled beat charges nothing twice.
    "autopay-charge-daily": {
        "task": "billing.tasks.autopay_run_task",
        "schedule": crontab(minute=0, hour=6),
    },
    # Every 5 minutes: send again the Peppol documents whose retry time has come (Storecove down, a
    # time-out), those whose task was lost and those of workers that died; each is claimed and carries its
    # idempotency guid, so a doubled beat or a lost answer never sends a document twice.
    "einvoice-submissions-retry": {
        "task": "billing.peppol.tasks.einvoice_submissions_retry_task",
        "schedule": crontab(minute="*/5"),
    },
    # Every 5 minutes: escalate tickets past their resolution target to Microsoft (once per ticket) and
    # send SLA breach notices (once per ticket and kind). Notices wait for the offering's business hours,
    # so a breach at night goes out within 5 minutes of the desk opening; a doubled beat sends nothing twice.
    "escalation-checks": {
        "task": "escalation.tasks.escalation_checks_run_task",
        "schedule": 300,
    },
    # Every 2 minutes: read every partner's support mailbox (IMAP) into tickets. A message is processed
    # once (unique per mailbox by UID and Message-ID) and a mailbox is read by one worker at a time (a
    # lease), so a doubled beat reads nothing twice; a mailbox that is down is simply tried next time.
    "support-mailboxes-read": {
        "task": "tickets.tasks.support_mailboxes_read_task",
        "schedule": 120,
    },
}

# --- Partner Center (docs/architecture.md, "Subscriptions and Partner Center") ------------------
# "record" (embedded default) records each suspension or reactivation as confirmed without calling
# Microsoft; "http" calls Partner Center's REST API with each partner's PartnerCenterAccount.
PARTNER_CENTER_BACKEND = env.str("PARTNER_CENTER_BACKEND", default="record")
if PARTNER_CENTER_BACKEND not in ("record", "http"):  # a typo must not silently skip Microsoft
    raise ImproperlyConfigured(f"PARTNER_CENTER_BACKEND must be 'record' or 'http', not {PARTNER_CENTER_BACKEND!r}")
# In production the record backend is refused (deploy check portal.E001) unless chosen on purpose here;
# staff then see a banner that Microsoft is not called.
PARTNER_CENTER_RECORD_ONLY = env.bool("PARTNER_CENTER_RECORD_ONLY", default=False)
# Empty: the API host of the partner's cloud (api.partnercenter.microsoft.com for the global and US
# Government clouds, partner.partnercenterapi.microsoftonline.cn for 21Vianet). Set: a test double.
PARTNER_CENTER_API_URL = env.str("PARTNER_CENTER_API_URL", default="")
# Empty: the sign-in authority of the partner's cloud (login.microsoftonline.com / .us /
# login.chinacloudapi.cn). Set: replaces the host for every cloud (a test double).
PARTNER_CENTER_AUTHORITY_URL = env.str("PARTNER_CENTER_AUTHORITY_URL", default="")
# A PEM file of certificate authorities trusted for both sign-in and API calls, instead of certifi's.
# TLS is always verified; this only says against which authorities (a proxy's, a test CA).
PARTNER_CENTER_CA_BUNDLE = env.str("PARTNER_CENTER_CA_BUNDLE", default="")
PARTNER_CENTER_TIMEOUT_SECONDS = env.float("PARTNER_CENTER_TIMEOUT_SECONDS", default=30.0)
PARTNER_CENTER_CONNECT_TIMEOUT_SECONDS = env.float("PARTNER_CENTER_CONNECT_TIMEOUT_SECONDS", default=10.0)
# Tries of one HTTP call inside one attempt (5xx, time-outs, 429) and the first pause between them.
PARTNER_CENTER_CALL_TRIES = env.int("PARTNER_CENTER_CALL_TRIES", default=3)
PARTNER_CENTER_CALL_BACKOFF_SECONDS = env.float("PARTNER_CENTER_CALL_BACKOFF_SECONDS", default=1.0)
# Attempts of one change before it is shown as failed; the pause after attempt n is base * 2^(n-1).
PARTNER_CENTER_MAX_ATTEMPTS = env.int("PARTNER_CENTER_MAX_ATTEMPTS", default=8)
PARTNER_CENTER_RETRY_BASE_SECONDS = env.int("PARTNER_CENTER_RETRY_BASE_SECONDS", default=60)
# A 202 is polled at its Location this often, this many times, before the attempt counts as transient.
PARTNER_CENTER_POLL_SECONDS = env.float("PARTNER_CENTER_POLL_SECONDS", default=2.0)
PARTNER_CENTER_POLL_TRIES = env.int("PARTNER_CENTER_POLL_TRIES", default=10)
# Key that encrypts partners' client secrets at rest; defaults to one derived from SECRET_KEY.
PARTNER_CENTER_SECRET_KEY = env.str("PARTNER_CENTER_SECRET_KEY", default="")

# --- Email -----------------------------------------------------------------------------------
# Support mailboxes (IMAP over TLS, always verified): a PEM file of certificate authorities trusted
# instead of the system's (a private mail server's, a test CA); the time-out of one IMAP call.
SUPPORT_MAILBOX_CA_BUNDLE = env.str("SUPPORT_MAILBOX_CA_BUNDLE", default="")
SUPPORT_MAILBOX_TIMEOUT_SECONDS = env.float("SUPPORT_MAILBOX_TIMEOUT_SECONDS", default=30.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CSP Billing Portal <no-reply@portal.example>")
# The portal's public address, for links in emails sent by workers (which have no request to read it from).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Online payments (billing.payments_online): Stripe's API host (docs.stripe.com/api), a CA bundle for a
# test double, and whether partners may pick the demo provider that plays the hosted checkout itself.
STRIPE_API_URL = env.str("STRIPE_API_URL", default="https://api.stripe.com")
STRIPE_CA_BUNDLE = env.str("STRIPE_CA_BUNDLE", default="")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20)
PAYMENTS_DEMO_PROVIDER = env.bool("PAYMENTS_DEMO_PROVIDER", default=False)
# Peppol sending (billing.peppol): Storecove's API (https://www.storecove.com/docs/), a CA bundle for a
# test double, the time-out of one call; attempts of one document before it is shown as failed (the pause
# after attempt n is base * 2^(n-1)); whether the sweep also pulls Storecove's queued webhooks (for an
# installation Storecove cannot reach with a push).
STORECOVE_API_URL = env.str("STORECOVE_API_URL", default="https://api.storecove.com/api/v2")
STORECOVE_CA_BUNDLE = env.str("STORECOVE_CA_BUNDLE", default="")
STORECOVE_TIMEOUT_SECONDS = env.float("STORECOVE_TIMEOUT_SECONDS", default=20.0)
STORECOVE_WEBHOOKS_PULL = env.bool("STORECOVE_WEBHOOKS_PULL", default=False)
PEPPOL_MAX_ATTEMPTS = env.int("PEPPOL_MAX_ATTEMPTS", default=8)
PEPPOL_RETRY_BASE_SECONDS = env.int("PEPPOL_RETRY_BASE_SECONDS", default=60)
# Pay links in invoice emails and notices are signed and expire after this many days.
PAY_LINK_MAX_AGE_DAYS = env.int("PAY_LINK_MAX_AGE_DAYS", default=60)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
# Every email goes through the configured backend wrapped in one that counts send failures (/metrics).
METERED_EMAIL_BACKEND = EMAIL_BACKEND
EMAIL_BACKEND = "config.metrics.MeteredEmailBackend"

# --- Auth: django-allauth ----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_ADAPTER = "partner_portal.auth.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_MAX_EMAIL_ADDRESSES = 1  # the invited address is the account; no second address to add
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS: dict[str, str] = {}  # empty dict means allauth's defaults, which are on
# Behind N reverse proxies, the client address is the N-th from the right in X-Forwarded-For;
# allauth's rate limits and the API token throttle count per client, not per proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CSP Billing Portal] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CSP Billing Portal"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Roles that must have TOTP enrolled before they can use the portal. On in production, off in the
# demo (whose users sign in with the password alone). PORTAL_MFA_REQUIRED=true turns it on anywhere.
PORTAL_MFA_REQUIRED = env.bool("PORTAL_MFA_REQUIRED", default=False)
PORTAL_MFA_REQUIRED_ROLES = ("partner_admin", "finance")

# The API schema and its browsable docs: open to anyone here (development); production turns this off, and
# then only signed-in partner staff get them (partner_portal.access.ApiDocsAccess).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

# API tokens (django-rest-knox, partner_portal.tokens): several per user, each named, stored hashed, valid
# API_TOKEN_TTL_DAYS days from issue and never extended by use; revoked by their owner, by a partner
# admin, and all at once on a password change or reset and on deactivation.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
KNOX_TOKEN_MODEL = "partner_portal.ApiToken"
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": dt.timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partner_portal.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["partner_portal.access.HasMembership"],
    # JSON bodies are bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth, and refuse text the
    # database cannot store (partner_portal.apiparsers.JSONParser).
    "DEFAULT_PARSER_CLASSES": [
        "partner_portal.apiparsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "partner_portal.pagination.ApiCursorPagination",
    "PAGE_SIZE": 50,
    # Filters are read by each list's `<Thing>Query` serializer (partner_portal.apikit.query_params),
    # the same selectors' filters the pages use; no filter backend guesses them from model fields.
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "partner_portal.apischema.PortalAutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    # Failed API token requests (partner_portal.throttles): per account, and per client address higher.
    "DEFAULT_THROTTLE_RATES": {"auth_token_account": "5/5m", "auth_token_address": "50/5m"},
    "EXCEPTION_HANDLER": "partner_portal.apikit.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSP Billing Support Portal API",
    "DESCRIPTION": "Customers, subscriptions, invoices, payments and support tickets of a CSP partner. "
    "Every call is scoped to the caller's partner, and for a customer user to that customer.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    # Served from the sidecar package, so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set where several models share a field name ("status", "action").
    "ENUM_NAME_OVERRIDES": {
        "NoticeStatusEnum": "billing.models.Notice.Status",
        "CollectionRunStatusEnum": "billing.models.CollectionRun.Status",
        "CollectionRunTriggerEnum": "billing.models.CollectionRun.Trigger",
        "CollectionActionEnum": "billing.models.CollectionStep.Action",
        "CollectionSuspendScopeEnum": "billing.models.CollectionPolicy.SuspendScope",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketCategoryEnum": "tickets.models.Ticket.Category",
        "TicketProductFamilyEnum": "tickets.models.Ticket.ProductFamily",
        "TicketSeverityEnum": "tickets.models.Ticket.Severity",
        "SupportPriceModelEnum": "tickets.models.SupportOffering.PriceModel",
        "SubscriptionStatusEnum": "subscriptions.models.Subscription.Status",
        "SubscriptionProductFamilyEnum": "subscriptions.models.Subscription.ProductFamily",
        "SubscriptionChangeSourceEnum": "subscriptions.models.ChangeSource",
        "SubscriptionChangeStateEnum": "subscriptions.models.SubscriptionChange.State",
        "SubscriptionChangeWantedEnum": "subscriptions.models.SubscriptionChange.Wanted",
        "EscalationStatusEnum": "escalation.models.Escalation.Status",
        "ExportJobStatusEnum": "billing.models.ExportJob.Status",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
    },
}

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
# One date format per language, everywhere (config/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Security defaults that hold in every mode ---------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Staff sessions end after 30 minutes without a request and 12 hours after sign-in (customer users keep
# Django's two weeks); partner_portal.middleware.StaffSessionTimeoutMiddleware.
STAFF_SESSION_IDLE_MINUTES = 30
STAFF_SESSION_MAX_HOURS = 12
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Scripts, styles, fonts and images come from the portal itself: no inline or injected script runs.
# Inline style *attributes* stay allowed (a chart bar's width, the API docs' own widgets); they run no code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# The deploy checks (partner_portal.checks) stop the web process, the worker and beat at start when DEBUG
# is off and one of them fails: on in production; the embedded and test modes are no deployment.
# `manage.py check --deploy` runs them on demand in any mode.
PORTAL_DEPLOY_CHECKS_AT_START = False

# --- Metrics (config/metrics.py) ---------------------------------------------------------------
# The bearer token Prometheus sends to /metrics; empty: the endpoint answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Set (as in the image): request latency is gathered across all gunicorn processes through this directory.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Errors to Sentry (docs/operations.md, "Errors and metrics") --------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
    )

LOG_FORMATS = ("json", "text")


def logging_config(log_format: str) -> dict[str, Any]:
    """LOG_FORMAT=json: one JSON object per line (partner_portal.logcontext); text: plain lines."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "partner_portal.logcontext.JsonLineFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "filters": {"forbidden_one_line": {"()": "partner_portal.logfilters.ForbiddenOneLine"}},
        "loggers": {
            # Django's own logger has a console handler of its own while DEBUG is on: one line, not two.
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.request": {"level": "INFO", "filters": ["forbidden_one_line"]},
            "django.db.backends": {"level": "INFO"},
            # gunicorn's access and error lines in the same format (gunicorn.conf.py hands it this config);
            # an access line carries the request's id.
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # WeasyPrint and fontTools log every step of every PDF at INFO.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


# Plain lines by default; production defaults to JSON (config.settings.production).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(LOG_FORMAT)
