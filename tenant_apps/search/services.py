"""``search_run``: a search, with its audit event.

The audit event says who searched, what kinds of term (name, date of birth,
identifier, postcode, case reference), how long the text was and how many
results they got; never the terms themselves. Search terms are personal data
(names, dates of birth, NHS numbers) and the audit trail is read by every
partnership admin, so the terms stay out of it. For accountability ("who looked
up this person?") each normalised term is stored as a keyed hash
(``concord.crypto.keyed_hash``, HMAC-SHA256 with a key from the environment,
truncated to 16 hex digits): an investigator with the key can hash a name, a date
of birth or an NHS number and find the searches for it; a reader of the audit
log or of a database copy without the key cannot reverse it, even for
low-entropy terms such as dates.
"""

from __future__ import annotations

import datetime as dt

from concord.crypto import keyed_hash
from tenant_apps.audit.services import audit_record
from tenant_apps.search.selectors import ParsedQuery, SearchResults, find

HASH_PURPOSE = "search-term"


def term_hashes(parsed: ParsedQuery) -> list[str]:
    """``kind:hash`` for every normalised term: the same term always gives the same hash."""
    terms = []
    if parsed.name:
        terms.append(("name", parsed.name))
    if parsed.date_of_birth:
        terms.append(("dob", parsed.date_of_birth.isoformat()))
    if parsed.postcode:
        terms.append(("postcode", parsed.postcode))
    terms += [("identifier", value) for value in parsed.identifiers]
    terms += [("reference", value) for value in parsed.references]
    return [f"{kind}:{keyed_hash(f'{kind}:{value}', purpose=HASH_PURPOSE)[:16]}" for kind, value in terms]


def search_run(
    *, user, query: str, date_of_birth: dt.date | None = None, request=None, via: str = "web"
) -> SearchResults:
    """Search what ``user`` may see, and audit it (``search.run``) without the terms."""
    results = find(user=user, query=query, date_of_birth=date_of_birth)
    parsed = results.query
    kinds = ", ".join(parsed.kinds) or "nothing recognised"
    audit_record(
        action="search.run",
        request=request,
        actor=user,
        object_type="search",
        summary=(
            f"{via} search by {kinds} ({len((query or '').strip())} characters): "
            f"{results.profile_total}{'+' if results.profile_total_capped else ''} profiles, "
            f"{results.case_total} cases; "
            f"terms {' '.join(term_hashes(parsed)) or '-'}"
        ),
    )
    return results
