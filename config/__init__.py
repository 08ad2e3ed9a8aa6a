"""The project package: settings, URLs, the Celery app, WSGI/ASGI entry points and the health check.

It sits at the top of the dependency chain: it wires every app in and nothing imports it but the
entry points (manage.py, gunicorn, celery).
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
