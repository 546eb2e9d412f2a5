"""Search API (``POST /api/v1/search/``, path in ``api/urls.py``): the class of ``api/views.py``."""

from .views import *  # noqa: F403
