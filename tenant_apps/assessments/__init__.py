"""Assessments: the partnership's templates and local questions, and its side of the national
question bank (browse and search it, draft questions and submit them for moderation), in every
partnership's schema.

A leaf above tasks and casework: the roof mounts its pages at ``assessments/`` and its API at
``api/v1/assessments/``. The bank itself (public tables, moderated by operators) is
``shared_apps.question_bank``; this app reads it and writes the partnership's own submissions
through its ``*_for_partnership`` services, auditing each write in the partnership's trail (the
public rows name the partnership, never the person).

Public API (keyword-only):

- ``urls`` and ``api.urls``: the pages and the API.
- ``selectors.may_author_bank(user)``: whether the user may draft and submit bank questions
  (partnership admins); ``selectors.may_build_templates(user)``, ``selectors.may_edit_template(user, template)``.
- ``selectors.templates_offered(case_type=None)``: the templates in use (on a case type).
- ``selectors.version_structure(version)``: a template version with its domains, sections and
  questions, in four queries.
- ``services.bank_submission_create(user=, request=None, content=, revises=None)`` and
  ``services.bank_submission_update/submit/withdraw``; ``services.template_create``,
  ``services.template_create_from_definition(user=, definition=)`` (the demo's, and tests'),
  ``services.template_publish``, ``services.local_question_create`` and the builder's other writes.
- ``charts.line_chart(...)``, ``charts.radar_chart(...)``: server-rendered SVG charts with a title,
  a description and their data as a table (template ``assessments/_chart.html``).
"""
