"""Reads of assessments, always through the user. Callers import the package
(``selectors.may_author_bank``); the files are named by what they read."""

from .assessments import *  # noqa: F403
from .bank import *  # noqa: F403
from .reviews import *  # noqa: F403
from .templates import *  # noqa: F403
