"""Tasks API (``/api/v1/tasks/``, paths in ``api/urls.py``): the classes of ``api/views.py``.

Reads go through ``tenant_apps.tasks.selectors`` (404 for "missing" and "not yours"),
writes through ``tenant_apps.tasks.services``; their errors map to the one JSON
error shape in ``concord.api`` (a stale version, ``ChangedSinceOpened``, answers 409).
"""

from .views import *  # noqa: F403
