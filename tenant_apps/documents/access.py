"""Who may download a document: one rule per kind of thing documents are attached to.

The app that owns the thing registers its rule once, in its ``AppConfig.ready``:

    from tenant_apps.documents import access

    access.register("timeline_entry", lambda user, entry_id: entries_visible_to(user).filter(pk=entry_id).exists())

A rule is called with the signed-in user and ``attached_to_id`` (a string) and
must return ``True`` to allow; anything else refuses. A document attached to a
type nobody registered is refused (fail closed). Rules run inside the request's
partnership schema, so they see only that partnership's rows.
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[object, str], bool]

_rules: dict[str, Check] = {}


class UnknownAttachmentType(ValueError):
    """A document is being attached to a type that has no registered access rule."""


def register(attached_to_type: str, check: Check) -> Check:
    """Register ``check(user, attached_to_id) -> bool`` for ``attached_to_type``. Returns ``check``.

    Registering a different rule for a type that has one is a programming error
    (two apps claiming the same type) and raises ``ValueError``.
    """
    if not attached_to_type or len(attached_to_type) > 64:
        raise ValueError(f"attached_to_type must be 1 to 64 characters: {attached_to_type!r}")
    if not callable(check):
        raise TypeError("check must be callable: check(user, attached_to_id) -> bool")
    existing = _rules.get(attached_to_type)
    if existing is not None and existing is not check:
        raise ValueError(f"an access rule is already registered for {attached_to_type!r}")
    _rules[attached_to_type] = check
    return check


def unregister(attached_to_type: str) -> None:
    """Remove the rule for ``attached_to_type`` (tests)."""
    _rules.pop(attached_to_type, None)


def ensure_registered(attached_to_type: str) -> None:
    if attached_to_type not in _rules:
        raise UnknownAttachmentType(
            f"no access rule is registered for documents attached to {attached_to_type!r}: "
            "register one with tenant_apps.documents.access.register"
        )


def can_access(user, *, attached_to_type: str, attached_to_id: str) -> bool:
    """Whether ``user`` may see documents attached to ``(attached_to_type, attached_to_id)``.

    Refuses anonymous and inactive users, unknown types, and any answer that is not ``True``.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    check = _rules.get(attached_to_type)
    if check is None:
        return False
    return check(user, str(attached_to_id)) is True
