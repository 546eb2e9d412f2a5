"""Assessments API (``/api/v1/assessments/``, paths in ``api/urls.py``): the national question
bank, the partnership's templates and its assessments, with the pages' rules (``selectors``,
``services``)."""

from .assessments import *  # noqa: F403
from .templates import *  # noqa: F403
