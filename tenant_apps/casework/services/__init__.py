"""Writes of casework: keyword-only, validated, audited, each in one transaction.

Callers import the package (``services.case_create``); the files are named by what they write.
"""

from .base import *  # noqa: F403
from .case_types import *  # noqa: F403
from .cases import *  # noqa: F403
from .details import *  # noqa: F403
from .documents import *  # noqa: F403
from .families import *  # noqa: F403
from .merge import *  # noqa: F403
from .profiles import *  # noqa: F403
from .reads import *  # noqa: F403
from .shares import *  # noqa: F403
from .timeline import *  # noqa: F403
