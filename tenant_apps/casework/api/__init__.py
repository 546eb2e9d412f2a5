"""The casework REST API: profiles, cases, their timelines, shares, merging, families, a
profile's details and documents (``api/urls.py``, under ``/api/v1/``).

Every class derives from ``concord.api.BaseApi`` and is named ``<Entity><Action>Api``, with
nested ``InputSerializer`` / ``OutputSerializer`` where it takes input or answers one shape.
"""

from .case_types import *  # noqa: F403
from .cases import *  # noqa: F403
from .details import *  # noqa: F403
from .documents import *  # noqa: F403
from .families import *  # noqa: F403
from .merge import *  # noqa: F403
from .profiles import *  # noqa: F403
from .shares import *  # noqa: F403
from .timeline import *  # noqa: F403
