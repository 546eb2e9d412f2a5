"""How the audit trail names what its events are about, and the values of the fields they changed.

An event stores ``object_type`` and ``object_id`` ("case", "17") and, for edits, raw values
(``{"status": ["open", "closed"]}``). People read "Case ASB-2026-0001, Noise and intimidation
on Granary Yard" and "Status: Open → Closed". The app that owns a kind of object registers,
once, in its ``AppConfig.ready`` (as it registers its rule with ``redaction``):

    from tenant_apps.audit import naming

    naming.register("case", cases_named, label="Case", template="{label} {name}",
                    fields={"status": naming.Field("Status", choices=Case.Status.choices)})

- ``names_for(object_ids) -> {object_id: name}``: called with the ``object_id`` strings of the
  objects of that kind a page (or a CSV chunk) shows, once per kind per page, never per event;
  it runs in the reader's partnership schema, so it sees only that schema's rows. An id it
  leaves out (deleted, or never there) is shown by type and id: "Timeline entry 52 (deleted)".
- ``label``: the kind's name ("Timeline entry"); by default its type, spaced and capitalised.
- ``template``: how a name is shown, ``"{label}: {name}"`` unless given.
- ``fields``: how the values of its changed fields read (``Field``): a label, choice labels,
  a date, a yes/no, or the id of another kind of object (a foreign key, named through that
  kind's ``names_for`` in the same one call).

Names are resolved when the trail is read, never stored in the event: names change, and a name
is personal data. **Redaction comes first** (``tenant_apps.audit.redaction``): an object the
reader may not see is never named, only typed and numbered ("Timeline entry 52"), whatever the
action of the event (a refused read included), and the reason stays in the summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

Namer = Callable[[list[str]], dict[str, str]]

UK = ZoneInfo("Europe/London")
NONE = "(none)"
YES_NO = {True: "Yes", False: "No"}


@dataclass(frozen=True)
class Field:
    """How one changed field of a kind of object reads.

    - ``label``: the field's name for people ("Date of birth"); its key, spaced, if empty.
    - ``choices``: ``[(stored value, label), ...]`` (a ``TextChoices.choices``).
    - ``names``: the object type whose ids the values are (a foreign key), named by its namer.
    """

    label: str = ""
    choices: Iterable[tuple[str, str]] = ()
    names: str = ""
    choice_labels: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice_labels", {str(value): label for value, label in self.choices})


@dataclass(frozen=True)
class _Kind:
    names_for: Namer
    label: str
    template: str
    fields: Mapping[str, Field]


_kinds: dict[str, _Kind] = {}


def register(
    object_type: str,
    names_for: Namer,
    *,
    label: str = "",
    template: str = "{label}: {name}",
    fields: Mapping[str, Field] | None = None,
) -> Namer:
    """Register how objects of ``object_type`` are named (see the module docstring).

    Registering a different ``names_for`` for a type that has one raises ``ValueError``.
    """
    if not callable(names_for):
        raise TypeError("names_for must be callable: names_for(object_ids) -> {object_id: name}")
    existing = _kinds.get(object_type)
    if existing is not None and existing.names_for is not names_for:
        raise ValueError(f"a namer is already registered for {object_type!r}")
    _kinds[object_type] = _Kind(names_for, label or type_label(object_type), template, dict(fields or {}))
    return names_for


def unregister(object_type: str) -> None:
    """Remove the namer of ``object_type`` (tests)."""
    _kinds.pop(object_type, None)


def type_label(object_type: str) -> str:
    """The kind's name for people: its registered label, else "timeline_entry" -> "Timeline entry"."""
    kind = _kinds.get(object_type)
    if kind is not None:
        return kind.label
    return object_type.replace("_", " ").replace(".", " ").strip().capitalize()


def field_of(object_type: str, name: str) -> Field:
    kind = _kinds.get(object_type)
    return (kind.fields.get(name) if kind else None) or Field()


def field_label(object_type: str, name: str) -> str:
    return field_of(object_type, name).label or str(name).replace("_", " ").capitalize()


def resolve(wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """``{object_type: {object_id: name}}`` for the ids wanted: one call per registered type."""
    found: dict[str, dict[str, str]] = {}
    for object_type, ids in wanted.items():
        kind = _kinds.get(object_type)
        ids = sorted({str(value) for value in ids if str(value)})
        if kind is None or not ids:
            continue
        found[object_type] = {str(key): name for key, name in (kind.names_for(ids) or {}).items() if name}
    return found


def shown(object_type: str, object_id: str, name: str | None, *, hidden: bool, asked_only: bool = False) -> str:
    """How the object reads: its name, or (hidden, unnamed) its type and id.

    ``name`` is None for an object the namer did not find: deleted, unless the event only
    names an id somebody asked for (a refused read), which may never have existed.
    """
    if not object_type and not object_id:
        return ""
    label = type_label(object_type)
    if name and not hidden:
        kind = _kinds.get(object_type)
        template = kind.template if kind else "{label}: {name}"
        return template.format(label=label, name=name)
    plain = f"{label} {object_id}".strip()
    if hidden or asked_only or object_type not in _kinds or not object_id:
        return plain
    return f"{plain} (deleted)"


# --- Values ---------------------------------------------------------------------------------

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?)?$"
)


def when(value: datetime) -> str:
    """A moment in the trail's one format: "3 Mar 2026, 14:05" (UK time)."""
    moment = timezone.localtime(value, UK) if timezone.is_aware(value) else value
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def day(value: date) -> str:
    """A date in the trail's one format: "3 Mar 2026"."""
    return f"{value.day} {value:%b %Y}"


def canonical(value):
    """A value as compared: dates and times parsed (a date equals its naive midnight), text with
    its line ends unified, "None" (written by older services) as None, lists as tuples."""
    if isinstance(value, str):
        if value in ("", "None"):
            return None
        match = _ISO.match(value.strip())
        if match:
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                return value.replace("\r\n", "\n")
            return canonical(parsed)
        return value.replace("\r\n", "\n")
    if isinstance(value, datetime):
        if timezone.is_naive(value) and value.time() == time.min:
            return value.date()
        return value
    if isinstance(value, list | tuple):
        return tuple(canonical(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(key), canonical(item)) for key, item in value.items()))
    return value


def same(old, new) -> bool:
    """Whether a stored pair is no change once normalised."""
    a, b = canonical(old), canonical(new)
    if isinstance(a, datetime) and isinstance(b, datetime) and timezone.is_aware(a) != timezone.is_aware(b):
        return False
    return a == b


def referenced(object_type: str, changes: Mapping | None) -> dict[str, set[str]]:
    """The ids of other objects the values of these changes name (foreign keys), by type."""
    found: dict[str, set[str]] = {}
    for name, values in (changes or {}).items():
        target = field_of(object_type, name).names
        if not target or not isinstance(values, list | tuple):
            continue
        for value in values:
            for item in value if isinstance(value, list | tuple) else [value]:
                if item not in (None, ""):
                    found.setdefault(target, set()).add(str(item))
    return found


def value_text(object_type: str, name: str, value, *, names: Mapping[str, Mapping[str, str]], hidden) -> str:
    """One stored value in words. ``hidden(type, id)`` says whether a named object is hidden."""
    spec = field_of(object_type, name)
    if isinstance(value, list | tuple):
        parts = [value_text(object_type, name, item, names=names, hidden=hidden) for item in value]
        return ", ".join(parts) if parts else NONE
    if value is None or value == "" or value == "None":
        return NONE
    if spec.names:
        found = names.get(spec.names, {}).get(str(value))
        return shown(spec.names, str(value), found, hidden=hidden(spec.names, str(value)))
    if spec.choice_labels and str(value) in spec.choice_labels:
        return spec.choice_labels[str(value)]
    if isinstance(value, bool):
        return YES_NO[value]
    normal = canonical(value)
    if isinstance(normal, datetime):
        return when(normal)
    if isinstance(normal, date):
        return day(normal)
    return str(value)


# --- Events as read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One changed field of an event, in words."""

    field: str  # its label
    old: str
    new: str


# Events that name an id somebody asked for and were refused: it may never have existed.
ASKED_ONLY_ACTIONS = frozenset({"access.refused", "access.forbidden"})


def name_events(events: list, *, hidden: Mapping[str, Mapping[str, str]]) -> list:
    """Give each (already redacted) event ``object_name``, ``actor_name`` and ``changed`` (a list of
    ``Change``, only the fields whose values differ once normalised). One call of each kind's namer
    for the whole list: the objects, the objects their changes name, and the actors (as users)."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        if event.object_type and event.object_id:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
        if event.actor_id is not None:
            wanted.setdefault("user", set()).add(str(event.actor_id))
        if not getattr(event, "redacted", ""):
            for object_type, ids in referenced(event.object_type, event.changes).items():
                wanted.setdefault(object_type, set()).update(ids)

    def is_hidden(object_type: str, object_id: str) -> bool:
        return bool(hidden.get(object_type, {}).get(object_id))

    names = resolve({kind: {i for i in ids if not is_hidden(kind, i)} for kind, ids in wanted.items()})
    for event in events:
        event.object_name = shown(
            event.object_type, event.object_id, names.get(event.object_type, {}).get(event.object_id),
            hidden=is_hidden(event.object_type, event.object_id), asked_only=event.action in ASKED_ONLY_ACTIONS,
        )  # fmt: skip
        event.actor_name = _actor_name(event, names.get("user", {}))
        event.changed = _changed(event, names=names, hidden=is_hidden)
    return events


def _actor_name(event, users: Mapping[str, str]) -> str:
    if event.actor_id is None:
        return event.actor_label or ""
    named = users.get(str(event.actor_id))
    if named:
        return named
    # No namer for users (or the account is gone): the joined actor if the page read it (never a
    # query per event), else the address recorded at the time.
    actor = type(event).actor.field.get_cached_value(event, None)
    return getattr(actor, "full_name", "") or event.actor_label


def _changed(event, *, names, hidden) -> list[Change]:
    changes = event.changes if isinstance(event.changes, dict) else {}
    lines = []
    for name, values in changes.items():
        label = field_label(event.object_type, name)
        if getattr(event, "redacted", ""):
            marker = values[0] if isinstance(values, list | tuple) and values else str(values)
            lines.append(Change(label, str(marker), str(marker)))
            continue
        if not isinstance(values, list | tuple) or len(values) != 2:
            lines.append(Change(label, NONE, value_text(event.object_type, name, values, names=names, hidden=hidden)))
            continue
        old, new = values
        if same(old, new):
            continue
        lines.append(
            Change(
                label,
                value_text(event.object_type, name, old, names=names, hidden=hidden),
                value_text(event.object_type, name, new, names=names, hidden=hidden),
            )
        )
    return lines
