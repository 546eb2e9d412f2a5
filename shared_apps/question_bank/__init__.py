"""The national question bank (public): questions with immutable published versions, and
partnerships' submissions moderated by the platform's operators.

Public API (keyword-only):

- ``models.Question``, ``models.QuestionVersion``, ``models.Submission``, ``models.QuestionContent``
  (the content fields, abstract: partnerships' local questions reuse them), ``models.AnswerType``,
  ``models.Nature``, ``models.Domain``.
- ``content.clean_content(data)``: a question's content cleaned, or ``ValidationError`` by field;
  ``content.content_changes(before, after)``: what an operator's edits changed.
- ``selectors.bank_search(text=, domain=, answer_type=, nature=, tag=)``, ``selectors.bank_tags()``,
  ``selectors.current_versions()``, ``selectors.access_question(code=)``,
  ``selectors.access_version(version_id=)``; a partnership's own submissions:
  ``selectors.submissions_for_partnership(schema_name=)``,
  ``selectors.access_submission_for_partnership(schema_name=, submission_id=)``; the operators':
  ``selectors.submissions_to_moderate()``, ``selectors.access_submission(submission_id=)``.
- ``services.submission_create_for_partnership``, ``services.submission_update_for_partnership``,
  ``services.submission_submit_for_partnership``, ``services.submission_withdraw_for_partnership``
  (a partnership's, from its context); ``services.submission_publish``, ``services.submission_reject``,
  ``services.question_retire``, ``services.question_version_publish`` (operators', in public);
  ``services.national_questions_seed(questions)`` (the seed, migration 0002).

Partnerships' pages of the bank live in ``tenant_apps.assessments``; the operators' moderation in
``concord.operators``. Each caller audits in its own trail.
"""
