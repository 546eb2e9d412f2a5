"""Casework: profiles, families, cases, the timeline, sharing, merging, a profile's details and
the gallery, in every partnership's schema.

Public API (what other apps may call):

- ``selectors.user_scope(user)`` and ``selectors.Scope``: the teams and agency a user acts for.
- ``selectors.profiles_visible_to(user)``, ``selectors.cases_visible_to(user)``: querysets of
  what the user may open.
- ``selectors.access_profile(user=, profile_id=)``, ``selectors.access_case(user=, case_id=)``:
  one record, the same 404 for "missing" and "not yours".
- ``services.ChangedSinceOpened``: a stale edit (``concord.errors``' own); ``services.AlreadyMerged``: a
  ``concord.errors.Conflict`` answering 409 ``already_merged``.
- ``services.profile_create(...)``, ``services.case_create(...)``, ``services.family_create(...)``,
  ``services.entry_create(...)``: the writes, for demo seeds and tests.
- ``idempotency.create_once(...)``: a page's one-time form token.
- ``idempotency.api_create_once(...)`` and ``idempotency.IDEMPOTENCY_PARAMETER``: an API create's
  ``Idempotency-Key``.
- ``models.Case``, ``models.Profile``, ``models.TimelineEntry``: read by search and tasks.
- ``urls`` and ``api.urls``: mounted by ``concord.urls_partnership``.

Inside: ``selectors/``, ``services/``, ``forms/``, ``views/``, ``api/`` by role, each file by one
domain word (``case_types``: the admin area's case-type pages live here, above directory, behind
its ``partnership_admin_required``); ``detail_kinds.py`` describes a profile's details once for pages and API;
``audit.py`` and ``documents.py`` register casework's rules with the audit and documents apps.
"""
