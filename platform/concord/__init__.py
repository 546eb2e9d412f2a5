"""Concord: the Django project (settings, root URLconfs, WSGI, middleware).

This package lives under ``platform/``, a source root with no ``__init__.py``:
``import platform`` must stay the standard library's module.
"""
