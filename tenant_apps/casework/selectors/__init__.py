"""Reads of casework, always through the user: what they may see is decided in the query.

``access_*`` give the same 404 for "does not exist" and "not yours", so ids are no oracle.
Counts, searches, lists, exports and the API all start from ``profiles_visible_to`` /
``cases_visible_to`` (``scope.py``). A page that needs several reads gets one selector
returning a small frozen dataclass (``case_page``, ``profile_page``). Callers import the
package (``selectors.access_case``); the files are named by what they read.
"""

from .case_types import *  # noqa: F403
from .cases import *  # noqa: F403
from .details import *  # noqa: F403
from .documents import *  # noqa: F403
from .families import *  # noqa: F403
from .gallery import *  # noqa: F403
from .merge import *  # noqa: F403
from .profiles import *  # noqa: F403
from .scope import *  # noqa: F403
from .shares import *  # noqa: F403
from .timeline import *  # noqa: F403
