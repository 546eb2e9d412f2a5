"""What every casework page shares that is casework's own: its 403 page and the rows of a list page.

The plumbing is the floor's (``concord.pages``, ``concord.paging``). Each view parses a form,
calls one selector or service, and redirects after a successful POST (with a success banner) or
shows the form again with the service's refusal on it (``REFUSALS``, ``apply_errors``: a
``ValidationError`` on the fields it names, a domain error such as a stale version on the
form). A viewer (read-only role) gets ``FORBIDDEN_PAGE`` on every form before anything is read
or written (``writers_only(FORBIDDEN_PAGE)``), and the services check again (fail closed).
"""

from __future__ import annotations

PER_PAGE = 25  # rows of a list page
FORBIDDEN_PAGE = "casework/403.html"  # what a user may not do here, in casework's words
