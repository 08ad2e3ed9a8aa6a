"""gunicorn reads this file from its working directory (/app in the image): its own access and error
lines go through the portal's logging configuration, so with LOG_FORMAT=json they are JSON objects like
every other line, each access line with the id of its request."""

from django.conf import settings

logconfig_dict = settings.LOGGING
