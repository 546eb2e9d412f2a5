"""API clients on the floor: what a partner system's token may do, checked in one place.

A request authenticated by an API client's token (``Authorization: Bearer concord_...``; the
token model and the authentication class are ``tenant_apps.directory``'s) carries a
``ClientCredential`` as ``request.auth``. Its user is the client's service account, so every
``*_visible_to`` selector applies unchanged; what it adds is the client's **scopes**.

Every API class declares the ``api_area`` it belongs to (one of ``AREAS``). A read (GET, HEAD,
OPTIONS, or a POST of a class that sets ``api_reads_only = True``, such as search) needs
``<area>:read``; anything else needs ``<area>:write``. ``BaseApi`` checks this for every token
request (``scope_refusal``), whatever the class's permission classes; a class that declares no
area is refused to every token (fails closed). ``ANY_CLIENT`` marks the few classes any client may
call (who am I). Session requests are not affected: scopes are a client's, not a person's.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions, permissions

# The areas of the API and what each covers; a scope is "<area>:read" or "<area>:write".
AREAS: dict[str, str] = {
    "profiles": "Profiles of people, organisations and premises: their details, shares and merges",
    "cases": "Cases: opening them, their status and shares",
    "timeline": "Timelines of cases and profiles: entries, attachments and document downloads",
    "families": "Families and their members",
    "tasks": "Tasks and their replies",
    "search": "The search box (read only)",
    "assessments": "Assessments, their answers, the templates and the national question bank",
}
READ_ONLY_AREAS = frozenset({"search"})
ANY_CLIENT = "any"  # an api_area any client may use: GET /api/v1/me/

SCOPES: tuple[str, ...] = tuple(
    f"{area}:{access}" for area in AREAS for access in (("read",) if area in READ_ONLY_AREAS else ("read", "write"))
)
WRITE_SCOPES = frozenset(scope for scope in SCOPES if scope.endswith(":write"))


def scope_label(scope: str) -> str:
    area, access = scope.split(":")
    return f"{area.title()}: {'read and write' if access == 'write' else 'read'}"


@dataclass(frozen=True)
class ClientCredential:
    """What a token proved, as ``request.auth``: which client (by id and name), which token, and
    the scopes the client was issued. ``label`` is how the audit trail names it."""

    client_id: int
    token_id: int
    name: str
    scopes: frozenset[str]

    @property
    def label(self) -> str:
        return f"API client: {self.name}"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes  # a client given an area's write is given its read too (at issue)


def client_of(request) -> ClientCredential | None:
    """The API client this request authenticated as, or None (a person's session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ClientCredential) else None


def scope_needed(view, method: str) -> str | None:
    """The scope a token needs for ``method`` on ``view``; None when any client may call it."""
    area = getattr(view, "api_area", None)
    if area == ANY_CLIENT:
        return None
    reads = method in permissions.SAFE_METHODS or getattr(view, "api_reads_only", False)
    return f"{area}:{'read' if reads else 'write'}"


class ScopeMissing(exceptions.PermissionDenied):
    default_code = "scope_missing"


def scope_refusal(request, view) -> ScopeMissing | None:
    """The 403 for a token request its client's scopes do not cover (None if they do, or if the
    request is a person's). A class with no ``api_area`` is refused to every token."""
    client = client_of(request)
    if client is None:
        return None
    area = getattr(view, "api_area", None)
    if area != ANY_CLIENT and area not in AREAS:
        return ScopeMissing("This operation is not open to API clients.")
    needed = scope_needed(view, request.method)
    if needed is None or client.allows(needed):
        return None
    return ScopeMissing(f"This API client does not have the {needed} scope.")
