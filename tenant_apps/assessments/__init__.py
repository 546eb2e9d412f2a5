"""Assessments: the partnership's side of the national question bank (browse and search it, draft
questions and submit them for moderation), in every partnership's schema.

A leaf: the roof mounts its pages at ``assessments/``. The bank itself (public tables, moderated
by operators) is ``shared_apps.question_bank``; this app reads it and writes the partnership's
own submissions through its ``*_for_partnership`` services, auditing each write in the
partnership's trail (the public rows name the partnership, never the person).

Public API (keyword-only):

- ``urls``: the pages, mounted at ``assessments/`` by ``concord.urls_partnership``.
- ``selectors.may_author_bank(user)``: whether the user may draft and submit bank questions
  (partnership admins).
- ``services.bank_submission_create(user=, request=None, content=, revises=None)`` and
  ``services.bank_submission_update/submit/withdraw(user=, request=None, submission=, version=...)``.
"""
