"""Forms of the assessments pages; the files are named by what they edit."""

from .bank import *  # noqa: F403
