"""Forms of the assessments pages; the files are named by what they edit."""

from .assessments import *  # noqa: F403
from .bank import *  # noqa: F403
from .templates import *  # noqa: F403
