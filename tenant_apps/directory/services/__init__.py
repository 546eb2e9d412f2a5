"""Every write of the partnership admin area, by noun: people, agencies and teams
(``services/people.py``); API clients (``services/clients.py``). Callers keep
``directory.services.<name>``."""

from .clients import *  # noqa: F403
from .people import *  # noqa: F403
