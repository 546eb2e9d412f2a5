"""Pages of the partnership admin area (``/admin/``), by noun: people, agencies, teams and
settings (``views/people.py``); API clients (``views/clients.py``)."""

from .clients import *  # noqa: F403
from .people import *  # noqa: F403
