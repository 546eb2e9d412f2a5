"""Pages of casework: profiles, cases, the timeline, sharing, merging, families, a profile's
details and the gallery, mounted at the root of every partnership host (``urls.py``).

Each view parses a form, calls one selector or service, and redirects after a successful POST
or re-renders the form with the service's refusal on it (the floor's ``concord.pages``; casework's
403 page and list length in ``views/base.py``). Ids in URLs are
resolved by the ``access_*`` selectors, which give the same 404 for "does not exist" and "not
yours".
"""

from .case_types import *  # noqa: F403
from .cases import *  # noqa: F403
from .details import *  # noqa: F403
from .families import *  # noqa: F403
from .gallery import *  # noqa: F403
from .merge import *  # noqa: F403
from .profiles import *  # noqa: F403
from .shares import *  # noqa: F403
from .timeline import *  # noqa: F403
