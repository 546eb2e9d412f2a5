"""Forms of the casework pages. They parse input; the services decide and report errors by field."""

from .case_types import *  # noqa: F403
from .cases import *  # noqa: F403
from .details import *  # noqa: F403
from .documents import *  # noqa: F403
from .families import *  # noqa: F403
from .fields import *  # noqa: F403
from .gallery import *  # noqa: F403
from .merge import *  # noqa: F403
from .profiles import *  # noqa: F403
from .shares import *  # noqa: F403
from .timeline import *  # noqa: F403
