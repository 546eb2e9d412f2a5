"""What makes a question's content valid, for every way one is written: a partnership's draft,
an operator's edits, the national seed (and, in partnerships, local questions).

``clean_content(data)`` returns the content normalised (whitespace trimmed, tags lower-case,
fields that do not belong to the answer type emptied) or raises ``ValidationError`` naming
each field that is wrong, in words a practitioner can act on.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from shared_apps.question_bank.models import AnswerType, Domain, Nature, QuestionContent

CHOICE_TYPES = (AnswerType.SINGLE_CHOICE, AnswerType.MULTIPLE_CHOICE)
SCALE_POINTS = {AnswerType.SCALE_5: 5, AnswerType.SCALE_10: 10}
MAX_OPTIONS = 20
MAX_TAGS = 8
TAG = re.compile(r"^[a-z0-9][a-z0-9'-]{0,39}$")
LIMIT = Decimal("9999999999.99")  # the columns hold 12 digits, 2 after the point


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _lines(value) -> list[str]:
    """A list, or text with one item per line (what a form's textarea sends)."""
    if isinstance(value, str):
        value = value.splitlines()
    return [_text(item) for item in (value or []) if _text(item)]


def _number(value, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors[field] = ["Enter a number, like 0 or 37.5."]
        return None
    if not number.is_finite() or abs(number) > LIMIT or number != number.quantize(Decimal("0.01")):
        errors[field] = [f"Enter a number between -{LIMIT} and {LIMIT}, with at most two decimal places."]
        return None
    return number


def clean_content(data: dict) -> dict:
    """The content of ``data`` (the keys of ``QuestionContent.CONTENT_FIELDS``), cleaned."""
    errors: dict[str, list[str]] = {}
    wording = _text(data.get("wording"))
    guidance = str(data.get("guidance") or "").strip()
    answer_type = data.get("answer_type") or ""
    if not wording:
        errors["wording"] = ["Enter the question's wording."]
    elif len(wording) > 300:
        errors["wording"] = ["The wording must be 300 characters or fewer."]
    if len(guidance) > 1000:
        errors["guidance"] = ["The guidance must be 1000 characters or fewer."]
    if answer_type not in AnswerType.values:
        errors["answer_type"] = ["Choose how the question is answered."]
    if data.get("nature") not in Nature.values:
        errors["nature"] = ["Choose whether the question is objective or subjective."]
    if data.get("domain") not in Domain.values:
        errors["domain"] = ["Choose the question's domain."]
    tags = data.get("tags")
    tags = re.split(r"[,\n]+", tags) if isinstance(tags, str) else tags  # "a, b" as a form sends it
    tags = sorted({tag.lower() for tag in _lines(tags)})
    if bad := [tag for tag in tags if not TAG.match(tag)]:
        errors["tags"] = [f"Tags are single words or hyphenated words of letters and digits: not {bad[0]!r}."]
    elif len(tags) > MAX_TAGS:
        errors["tags"] = [f"Give at most {MAX_TAGS} tags."]
    options, unit, minimum, maximum, anchors = [], "", None, None, []
    if answer_type in CHOICE_TYPES:
        options = _lines(data.get("options"))
        if len(options) < 2:
            errors["options"] = ["Give at least two choices, one per line."]
        elif len(options) > MAX_OPTIONS:
            errors["options"] = [f"Give at most {MAX_OPTIONS} choices."]
        elif len({option.lower() for option in options}) != len(options):
            errors["options"] = ["Each choice must be different."]
        elif any(len(option) > 80 for option in options):
            errors["options"] = ["Each choice must be 80 characters or fewer."]
    elif answer_type == AnswerType.NUMBER:
        unit = _text(data.get("unit"))
        if len(unit) > 30:
            errors["unit"] = ["The unit must be 30 characters or fewer."]
        minimum = _number(data.get("minimum"), "minimum", errors)
        maximum = _number(data.get("maximum"), "maximum", errors)
        if minimum is not None and maximum is not None and minimum >= maximum:
            errors["maximum"] = ["The highest value must be more than the lowest."]
    elif answer_type in SCALE_POINTS:
        points = SCALE_POINTS[answer_type]
        anchors = _lines(data.get("anchors"))
        if len(anchors) != points:
            errors["anchors"] = [f"Describe every point of the scale: {points} lines, from 1 to {points} "
                                 f"(you gave {len(anchors)})."]  # fmt: skip
        elif len({anchor.lower() for anchor in anchors}) != points:
            errors["anchors"] = ["Each point of the scale needs its own description."]
        elif any(len(anchor) > 200 for anchor in anchors):
            errors["anchors"] = ["Each point's description must be 200 characters or fewer."]
    if errors:
        raise ValidationError(errors)
    return {"wording": wording, "guidance": guidance, "answer_type": answer_type, "nature": data["nature"],
            "domain": data["domain"], "tags": tags, "options": options, "unit": unit, "minimum": minimum,
            "maximum": maximum, "anchors": anchors}  # fmt: skip


def content_changes(before: dict, after: dict) -> dict:
    """``{field: {"submitted": old, "published": new}}`` for each content field that differs
    (JSON-ready: numbers as text)."""

    def plain(value):
        return str(value) if isinstance(value, Decimal) else value

    return {
        name: {"submitted": plain(before.get(name)), "published": plain(after.get(name))}
        for name in QuestionContent.CONTENT_FIELDS
        if plain(before.get(name)) != plain(after.get(name))
    }
