"""Casework: profiles, families, cases, the timeline, sharing, merging, a profile's details and
the gallery, in every partnership's schema.

Public API (what other apps may call):
- ``casework.selectors``: ``user_scope`` / ``Scope``, ``profiles_visible_to``, ``cases_visible_to``,
  ``access_profile``, ``access_case`` (the same 404 for "missing" and "not yours").
- ``casework.services``: the domain errors its writes raise (``ChangedSinceOpened``, a stale edit:
  ``concord.errors``' own; ``AlreadyMerged``, a ``concord.errors.Conflict`` answering 409
  ``already_merged``), and the writes (``profile_create``, ``case_create``, ``entry_create``...)
  for seeds and tests.
- ``casework.idempotency``: ``create_once`` (a page's one-time form token), ``api_create_once`` and
  ``IDEMPOTENCY_PARAMETER`` (an API create's ``Idempotency-Key``).
Inside: ``selectors/``, ``services/``, ``forms/``, ``views/``, ``api/`` by role, each file by one
domain word; ``detail_kinds.py`` describes a profile's details once for pages and API;
``audit.py`` and ``documents.py`` register casework's rules with the audit and documents apps.
"""
