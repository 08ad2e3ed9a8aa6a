import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()

# With DEBUG off, a half-configured deployment stops here with what to set (partner_portal.checks).
from partner_portal.checks import refuse_half_configured  # noqa: E402

try:
    refuse_half_configured("web server")
except SystemExit as refused:
    # Exit code 4 is gunicorn's "the application could not be loaded": it stops instead of restarting
    # the worker over and over.
    print(refused, file=sys.stderr)
    raise SystemExit(4) from None
