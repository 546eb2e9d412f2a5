"""Search: one box over the profiles and cases the user may see, POSTed and audited without its terms.

No other app imports it: it is a leaf, and the roof mounts its page and its API. It owns
the name lexicon (migration ``0001_name_lexicon``: two tables, and statement-level triggers
on casework's profile and alias tables that keep them), through which misspelt names are
found (``selectors.names``).

Public API:

- ``urls``: the search page, mounted at ``search/`` by ``concord.urls_partnership``.
- ``api.urls``: ``POST /api/v1/search/``, mounted at ``api/v1/search/``.
"""
