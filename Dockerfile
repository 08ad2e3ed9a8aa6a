# syntax=docker/dockerfile:1
#
# CSP Billing Support Portal: one image for the web server (gunicorn), the Celery worker, Celery beat
# and one-off management commands. Runs with the production settings; configure it with the
# environment variables listed in .env.example and docs/operations.md.

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORTAL_VAR_DIR=/var/lib/portal \
    XDG_CACHE_HOME=/var/cache/portal \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    GUNICORN_WORKERS=3 \
    GUNICORN_TIMEOUT=60

# WeasyPrint's runtime libraries (Pango, HarfBuzz) and the fonts invoice PDFs are rendered with;
# fc-cache to build the font cache; gettext for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        fonts-liberation2 \
        fontconfig \
        gettext \
    && rm -rf /var/lib/apt/lists/*

# The application runs as an unprivileged user. Its cache directory ($XDG_CACHE_HOME) is its own, so
# Fontconfig finds a writable cache (no "No writable cache directories" on every start).
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portal \
    && mkdir -p "$XDG_CACHE_HOME" \
    && chown portal:portal "$XDG_CACHE_HOME"

# Dependencies first, from pyproject.toml alone, so this layer is reused while only the code changes.
# The project installs no packages of its own ([tool.setuptools] packages = []): the code runs from /app.
# README.md goes beside it: pyproject.toml names it as the project's readme.
COPY pyproject.toml README.md /tmp/build/
RUN pip install /tmp/build && rm -rf /tmp/build

WORKDIR /app
COPY . /app

# Translations and static files are compiled into the image. The production settings refuse to load
# without their required variables, so dummy values are given to these commands only; they are not
# kept in the image and nothing connects to them. Static files land in /app/staticfiles (whitenoise
# serves them); $PORTAL_VAR_DIR/media is the volume for files the portal writes.
RUN export SECRET_KEY=build-only-dummy-secret-key-not-used-at-runtime-0123456789abcdefghij \
        ALLOWED_HOSTS=localhost \
        DATABASE_URL=postgres://build@localhost/build \
        REDIS_URL=redis://localhost:6379/0 \
        EMAIL_URL=smtp://localhost:25 \
        PORTAL_BASE_URL=https://build.invalid \
    && if find . -path '*/locale/*' -name '*.po' | grep -q .; then \
        python manage.py compilemessages; \
    fi \
    && python manage.py collectstatic --noinput \
    && rm -rf "$PORTAL_VAR_DIR/cache" \
    && mkdir -p "$PORTAL_VAR_DIR/media" \
    && chown portal:portal "$PORTAL_VAR_DIR" "$PORTAL_VAR_DIR/media"

USER portal

# The font cache, built as the runtime user into its own cache directory.
RUN fc-cache

EXPOSE 8000

# /healthz answers 200 when the database and the broker are reachable, 503 otherwise. The probe sends
# a Host from ALLOWED_HOSTS and X-Forwarded-Proto: https so that the host check and SECURE_SSL_REDIRECT
# do not turn it into a 400 or a redirect.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip() and '*' not in h] or ['localhost']; req = u.Request('http://127.0.0.1:8000/healthz', headers={'Host': hosts[0], 'X-Forwarded-Proto': 'https'}); sys.exit(0 if u.urlopen(req, timeout=8).status == 200 else 1)"]

# The web server. Its processes share request metrics through $PROMETHEUS_MULTIPROC_DIR, emptied at
# each start. Workers come from GUNICORN_WORKERS. gunicorn.conf.py (read from /app) sends the access
# and error lines through the portal's logging: to stderr, as JSON with LOG_FORMAT=json.
# The worker and beat containers override this command (see docker-compose.yml).
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers \"${GUNICORN_WORKERS:-3}\" --timeout \"${GUNICORN_TIMEOUT:-60}\" --worker-tmp-dir /dev/shm --access-logfile - --error-logfile -"]
