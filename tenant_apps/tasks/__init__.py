"""Tasks: to a person or a team, from a case or a profile, with replies and e-mail notices.

A leaf: the roof mounts its pages and its API.

Public API (keyword-only):

- ``urls``: the task pages, mounted at ``tasks/`` by ``concord.urls_partnership``.
- ``api.urls``: the tasks API, mounted at ``api/v1/tasks/``.
- ``services.task_create(user=, request=None, title=, details="", due_date=, case=None, profile=None,
  assigned_user=None, assigned_team=None)``: a task, its notices and its audit event (the demo seed's too).
"""
