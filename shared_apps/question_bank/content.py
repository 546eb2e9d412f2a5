"""What makes a question's content valid, for every way one is written: a partnership's draft,
an operator's edits, the national seed (and, in partnerships, local questions).

``clean_content(data)`` returns the content normalised (whitespace trimmed, tags lower-case,
fields that do not belong to the answer type emptied) or raises ``ValidationError`` naming
each field that is wrong, in words a practitioner can act on.
"""

from __future__ import annotations

import datetime as dt
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


# --- Answers --------------------------------------------------------------------------------
# How an answer is kept (JSON): "yes" / "no" / "unknown"; a choice's text, or a list of them in
# the question's order; a number as text ("37.5", exact); a date as "YYYY-MM-DD"; free text. A
# scale's answer is two scores, the worker's and the family's, kept beside the value (None).

YES_NO_ANSWERS = {AnswerType.YES_NO: ("yes", "no"), AnswerType.YES_NO_UNKNOWN: ("yes", "no", "unknown")}
ANSWER_LABELS = {"yes": "Yes", "no": "No", "unknown": "Don't know"}
MAX_TEXT = 5000
FIRST_DATE, LAST_DATE = "1900-01-01", "2100-12-31"


def clean_answer(question, raw):
    """``raw`` (what a form or the API sent) as the answer to ``question`` (any object with the
    content fields), or None for no answer; ``ValueError`` with a message for the person
    answering. Scales are answered by scores (``clean_score``), not here."""
    kind = question.answer_type
    if raw is None or raw == "" or raw == []:
        return None
    if kind in YES_NO_ANSWERS:
        if raw not in YES_NO_ANSWERS[kind]:
            raise ValueError("Choose one of the answers given.")
        return raw
    if kind == AnswerType.SINGLE_CHOICE:
        if raw not in question.options:
            raise ValueError("Choose one of the answers given.")
        return raw
    if kind == AnswerType.MULTIPLE_CHOICE:
        chosen = [raw] if isinstance(raw, str) else list(raw)
        if any(not isinstance(item, str) or item not in question.options for item in chosen):
            raise ValueError("Choose from the answers given.")
        return [option for option in question.options if option in chosen]
    if kind == AnswerType.NUMBER:
        try:
            number = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError("Enter a number, like 3 or 12.5.") from None
        if not number.is_finite() or abs(number) > LIMIT or number != number.quantize(Decimal("0.01")):
            raise ValueError("Enter a number with at most two decimal places.")
        if question.minimum is not None and number < question.minimum:
            raise ValueError(f"Enter {format(question.minimum.normalize(), 'f')} or more.")
        if question.maximum is not None and number > question.maximum:
            raise ValueError(f"Enter {format(question.maximum.normalize(), 'f')} or less.")
        return format(number.normalize(), "f")
    if kind == AnswerType.DATE:
        try:
            day = dt.date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError("Enter a real date, like 27 3 2026.") from None
        if not FIRST_DATE <= day.isoformat() <= LAST_DATE:
            raise ValueError("Enter a date between 1900 and 2100.")
        return day.isoformat()
    if kind == AnswerType.TEXT:
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(f"The answer must be {MAX_TEXT} characters or fewer.")
        return text or None
    if kind in SCALE_POINTS:
        raise ValueError("A scale is answered by scores.")
    raise ValueError("This question cannot be answered.")


def clean_score(question, raw) -> int | None:
    """A scale's score (1 to its top point), or None; ``ValueError`` otherwise."""
    if raw is None or raw == "":
        return None
    points = SCALE_POINTS.get(question.answer_type)
    if not points:
        raise ValueError("Only a scale has scores.")
    try:
        score = int(str(raw))
    except ValueError:
        raise ValueError(f"Choose a score from 1 to {points}.") from None
    if not 1 <= score <= points:
        raise ValueError(f"Choose a score from 1 to {points}.")
    return score


def answer_text(question, value) -> str:
    """An answer as a person reads it ("Yes", "£1,200"...), "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    if question.answer_type in YES_NO_ANSWERS:
        return ANSWER_LABELS.get(value, value)
    if question.answer_type == AnswerType.NUMBER and question.unit:
        return f"£{value}" if question.unit == "£" else f"{value} {question.unit}"
    if question.answer_type == AnswerType.DATE:
        return dt.date.fromisoformat(value).strftime("%-d %B %Y")
    return str(value)
