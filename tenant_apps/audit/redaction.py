"""What a reader of the audit trail may not see: one rule per kind of object events name.

The audit trail must never show a reader what the record itself would hide. An
event keeps what its record held when it happened (a timeline entry's summary and
body, old -> new, in ``changes``; a deletion's reason in ``summary``), and the
record may hide that from the reader now: a sensitive entry is readable only by
its named teams, a profile or a case only by those it is visible to.

The app that owns a kind of object registers its rule once, in its
``AppConfig.ready`` (as ``tenant_apps.documents.access`` does for documents):

    from tenant_apps.audit import redaction

    redaction.register("timeline_entry", entries_hidden_from)

A rule is called with the reader and the ``object_id`` strings of the events
about to be shown, and returns ``{object_id: reason}`` for the objects whose
content the reader may not see (``reason`` is a few words, e.g. "sensitive
entry"). Rules run in the reader's partnership schema and see only its rows.
One call per kind of object per page (or per CSV chunk), never per event.

For a hidden object the event's ``summary`` and every value in ``changes`` are
replaced by ``"[restricted: <reason>]"``; who, when, from where, the action, the
object's type and id and the *names* of the changed fields are kept, so a
partnership admin can still supervise (who changed which field of which entry,
when) without reading what the record hides from them. Events of kinds without a
rule, and events in ``CONTENT_FREE_ACTIONS`` (reads and refused reads), are shown
whole: their summaries are written without record content.
Redaction happens when events are read, not when they are written: the trail
keeps the truth for those entitled to it, and an entry made sensitive later hides
its earlier events too.

The rules are also asked about the objects of content-free events (and those the
changes name, and the actors), though those events' content is not hidden: the
trail names only objects the reader may see (``tenant_apps.audit.naming``), so a
refused read of a hidden record shows its type and id, never its name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from tenant_apps.audit.models import AuditEvent

Rule = Callable[[object, list[str]], dict[str, str]]

# Events whose summary is written, by contract, without any of the record's content: who
# looked at it and which view ("sharing", "attachments"), or which id was asked for and
# refused. They are shown whole, so an admin sees the probing and the reading in full.
CONTENT_FREE_ACTIONS = frozenset(
    {
        "access.refused",
        "access.forbidden",
        "access.refusals_suppressed",
        "profile.viewed",
        "case.viewed",
        "timeline.entry_viewed",
        "family.viewed",
    }
)

_rules: dict[str, Rule] = {}


def restricted(reason: str) -> str:
    """The text shown in place of a hidden value."""
    return f"[restricted: {reason}]"


def register(object_type: str, rule: Rule) -> Rule:
    """Register ``rule(user, object_ids) -> {object_id: reason}`` for events about ``object_type``.

    Registering a different rule for a type that has one raises ``ValueError``.
    """
    if not callable(rule):
        raise TypeError("rule must be callable: rule(user, object_ids) -> {object_id: reason}")
    existing = _rules.get(object_type)
    if existing is not None and existing is not rule:
        raise ValueError(f"a redaction rule is already registered for {object_type!r}")
    _rules[object_type] = rule
    return rule


def unregister(object_type: str) -> None:
    """Remove the rule for ``object_type`` (tests)."""
    _rules.pop(object_type, None)


def hidden_from(user, object_type: str, object_id: str) -> bool:
    """Whether ``object_type`` ``object_id`` is hidden from ``user`` (missing counts as hidden);
    a type with no rule counts as hidden (fail closed). Used to tell a refused read apart."""
    rule = _rules.get(object_type)
    return True if rule is None else bool((rule(user, [object_id]) or {}).get(object_id))


def hidden_objects(*, user, wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """``{object_type: {object_id: reason}}`` of the objects wanted that ``user`` may not see:
    one call of each type's rule (types without a rule are not asked, and hide nothing)."""
    hidden: dict[str, dict[str, str]] = {}
    for object_type, object_ids in wanted.items():
        ids = sorted({str(value) for value in object_ids if str(value)})
        if object_type in _rules and ids:
            hidden[object_type] = _rules[object_type](user, ids) or {}
    return hidden


def wanted_by(events: Iterable[AuditEvent]) -> dict[str, set[str]]:
    """The objects these events are about, by type: every event's, reads included (an object
    the reader may not see is never named, whatever the event; see ``naming``)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.object_type and event.object_id:
            wanted[event.object_type].add(event.object_id)
    return wanted


def apply(events: Iterable[AuditEvent], hidden: Mapping[str, Mapping[str, str]]) -> list[AuditEvent]:
    """Hide, in memory only, the content of the events about hidden objects (not the reads': see
    ``CONTENT_FREE_ACTIONS``); each event gets ``redacted`` (the reason, or ``""``). The rows in
    the database are never changed (the table refuses updates anyway)."""
    events = list(events)
    for event in events:
        event.redacted = ""
        if event.action in CONTENT_FREE_ACTIONS:
            continue
        reason = hidden.get(event.object_type, {}).get(event.object_id)
        if reason:
            marker = restricted(reason)
            event.redacted = reason
            event.summary = marker
            if event.changes:
                event.changes = {field: [marker, marker] for field in event.changes}
    return events
