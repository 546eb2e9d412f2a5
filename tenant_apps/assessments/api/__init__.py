"""Assessments API (``/api/v1/assessments/``, paths in ``api/urls.py``): the national question
bank and the partnership's templates, read with the pages' rules (``selectors``)."""

from .templates import *  # noqa: F403
