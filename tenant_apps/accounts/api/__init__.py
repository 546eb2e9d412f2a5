"""Accounts API (``GET /api/v1/me/``, path in ``api/urls.py``): the class of ``api/views.py``."""

from .views import *  # noqa: F403
