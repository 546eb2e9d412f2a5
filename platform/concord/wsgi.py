"""WSGI entry point (gunicorn: ``concord.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings.production")

application = get_wsgi_application()
