"""Pages of assessments (``/assessments/``); the files are named by what they show."""

from .assessments import *  # noqa: F403
from .bank import *  # noqa: F403
from .templates import *  # noqa: F403
