"""Dashboard: the home page of a partnership, the signed-in user's work at a glance.

The top of the ladder's apps: it reads tasks, casework and the audit trail through their
selectors (``*_visible_to``), and no app imports it. No models.

Public API:

- ``urls``: the home page (``home``), mounted at the root by ``concord.urls_partnership``.
- ``selectors.dashboard_for(user)``: the ``Dashboard`` the home page shows.
"""
