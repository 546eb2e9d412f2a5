"""Writes of assessments: keyword-only, validated, audited, each in one transaction. Callers
import the package (``services.bank_submission_create``); the files are named by what they write."""

from .assessments import *  # noqa: F403
from .bank import *  # noqa: F403
from .reminders import *  # noqa: F403
from .reviews import *  # noqa: F403
from .templates import *  # noqa: F403
