"""Tasks: to a person or a team, from a case or a profile, with replies and e-mail notices.

A leaf: the roof mounts its pages and its API. Its own periodic job, ``jobs.task_digests_all``
(``TASKS_DIGEST_CRON``), e-mails each person a daily digest of their tasks overdue and due today
(opt-out per person: ``models.DigestPreference``, the page ``tasks:digest``).

Public API (keyword-only):

- ``urls``: the task pages, mounted at ``tasks/`` by ``concord.urls_partnership``.
- ``api.urls``: the tasks API, mounted at ``api/v1/tasks/``.
- ``services.task_create(user=, request=None, title=, details="", due_date=, case=None, profile=None,
  assigned_user=None, assigned_team=None, past_due_confirmed=False)``: a task, its notices and its
  audit event (the demo seed's too).
- ``selectors.task_counts(user) -> selectors.TaskCounts``: the user's active tasks due today and
  overdue, in person (``mine_due_today``, ``mine_overdue``) and for their teams (``team_due_today``,
  ``team_overdue``); one query.
- ``models.Task.is_overdue`` / ``models.Task.is_due_today``: active and due before / on today,
  ``models.partnership_today()`` (Europe/London).
- Template ``tasks/_due.html`` (context ``task``): a red "Overdue" or yellow "Due today" tag, or nothing.
"""
