"""Reviews compared: an assessment and the reviews before it, question by question, and each
domain's score over them, in a number of queries that does not grow with the reviews.

A question is followed across reviews by its identity (the bank's question, or the partnership's
local one), whatever version each review pinned; a person by their profile. The family's
answers (questions asked once) are the "Family" row. Members the reader may not see are left
out, as everywhere: their answers are neither shown nor scored.

Scores: an answer scores by its value (a number; a scale's worker's and family's scores, kept
apart) or by the points given for it (a choice, yes or no; a multiple choice, the sum of its
choices' points); a domain's score is the total or the average of its answers' scores, per
person and for the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Exists, OuterRef, Q

from shared_apps.question_bank.content import answer_text
from tenant_apps.assessments.charts import Chart, Series, line_chart, radar_chart
from tenant_apps.assessments.models import Answer, Assessment, AssessmentMember, TemplateItem
from tenant_apps.assessments.selectors.assessments import assessments_visible_to
from tenant_apps.casework.selectors import profiles_visible_to

__all__ = ["Comparison", "ComparisonRow", "assessment_comparison", "item_identity", "review_changes"]

MAX_REVIEWS = 50
FAMILY = None  # the subject of the questions asked once, for the family


def item_identity(item: TemplateItem) -> tuple[str, int]:
    """The question an item asks, whatever its version: ("bank", id) or ("local", id)."""
    if item.bank_version_id:
        return ("bank", item.bank_version.question_id)
    return ("local", item.local_version.question_id)


@dataclass(frozen=True)
class ReviewChanges:
    added: list[str]
    removed: list[str]
    reworded: list[tuple[str, str]]  # (before, after)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.reworded)


def review_changes(old_items, new_items) -> ReviewChanges:
    """What moving a review from one template version to another changes: the questions added,
    removed, and reworded (a newer version of the same question)."""
    old = {item_identity(item): item.question for item in old_items}
    new = {item_identity(item): item.question for item in new_items}
    return ReviewChanges(
        added=[new[key].wording for key in new if key not in old],
        removed=[old[key].wording for key in old if key not in new],
        reworded=[(old[key].wording, new[key].wording) for key in new
                  if key in old and old[key].pk != new[key].pk and old[key].wording != new[key].wording],
    )  # fmt: skip


# --- Scores -----------------------------------------------------------------------------------------


def _number(value) -> float | None:
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def answer_points(item: TemplateItem, answer: Answer | None) -> tuple[float | None, float | None]:
    """(worker's, family's) score of one answer towards its item's domain: the family's only for
    a scale; None where there is nothing to score."""
    if answer is None or not item.scoring:
        return None, None
    question = item.question
    if item.scoring.get("kind") == "value":
        if question.is_scale:
            return answer.worker_score, answer.family_score
        return _number(answer.value), None
    scores = item.scoring.get("scores", {})
    if isinstance(answer.value, list):
        chosen = [scores[choice] for choice in answer.value if choice in scores]
        return (float(sum(chosen)) if chosen else None), None
    points = scores.get(answer.value)
    return (float(points) if points is not None else None), None


def _aggregate(values: list[float], how: str) -> float | None:
    if not values:
        return None
    return round(sum(values) / len(values), 2) if how == "mean" else round(sum(values), 2)


# --- The comparison ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedAnswer:
    review: str  # the review's label
    text: str
    changed: bool  # differs from the review before
    asked: bool = True  # False: the question was not asked in that review


@dataclass(frozen=True)
class ComparisonRow:
    question: str  # as the latest review asks it
    about: str  # a member's name, or "Family"
    cells: list[ComparedAnswer]  # per review, oldest first


@dataclass(frozen=True)
class Comparison:
    reviews: list[Assessment]  # oldest first, the assessment compared last
    labels: list[str]  # each review's label ("1: 3 Mar 2026")
    rows: list[ComparisonRow]
    line_charts: list[Chart]
    radar_charts: list[Chart]
    hidden_members: int


def _chain(user, assessment: Assessment) -> list[Assessment]:
    """The assessment and the reviews before it that the user may see, oldest first."""
    same_origin = Q(family_id=assessment.family_id, profile_id=assessment.profile_id, case_id=assessment.case_id)
    candidates = {
        row.pk: row
        for row in assessments_visible_to(user)
        .filter(same_origin, template_version__template_id=assessment.template_version.template_id)
        .select_related("template_version")
    }
    chain, current = [], candidates.get(assessment.pk)
    while current is not None and len(chain) < MAX_REVIEWS:
        chain.append(current)
        current = candidates.get(current.previous_id)
    return list(reversed(chain))


def _label(number: int, assessment: Assessment) -> str:
    day = assessment.completed_at or assessment.started_at
    return f"{number}: {day:%-d %b %Y}" + ("" if assessment.is_completed else " (in progress)")


def _text(item: TemplateItem, answer: Answer | None) -> str:
    if answer is None or answer.is_empty:
        return ""
    if item.question.is_scale:
        worker = answer.worker_score if answer.worker_score is not None else "none"
        family = answer.family_score if answer.family_score is not None else "none"
        return f"Worker {worker}, family {family}"
    return answer_text(item.question, answer.value)


def assessment_comparison(*, user, assessment: Assessment) -> Comparison:
    reviews = _chain(user, assessment)
    ids = [review.pk for review in reviews]
    visible = Exists(profiles_visible_to(user).filter(pk=OuterRef("profile_id")))
    members = list(AssessmentMember.objects.filter(assessment_id__in=ids).annotate(seen=visible)
                   .select_related("profile"))  # fmt: skip
    seen = {member.pk: member for member in members if member.seen}
    hidden = len({m.profile_id for m in members if not m.seen} - {m.profile_id for m in seen.values()})
    answers = Answer.objects.filter(assessment_id__in=ids).filter(Q(member__isnull=True) | Q(member_id__in=list(seen)))
    items = {
        item.pk: item
        for item in TemplateItem.objects.filter(section__template_version__in={r.template_version_id for r in reviews})
        .select_related("bank_version__question", "local_version__question", "domain", "section")
        .order_by("section__position", "position", "pk")
    }
    by_review: dict[int, dict] = {review.pk: {} for review in reviews}
    for answer in answers:
        subject = seen[answer.member_id].profile_id if answer.member_id else FAMILY
        by_review[answer.assessment_id][(item_identity(items[answer.item_id]), subject)] = (
            items[answer.item_id],
            answer,
        )
    names = {member.profile_id: member.profile.display_name for member in seen.values()}
    latest_items = [
        item for item in items.values() if item.section.template_version_id == reviews[-1].template_version_id
    ]
    order = {item_identity(item): index for index, item in enumerate(latest_items)}
    keys = sorted({key for found in by_review.values() for key in found},
                  key=lambda key: (order.get(key[0], 10**6), key[1] is not None, names.get(key[1], "")))  # fmt: skip
    labels = [_label(number, review) for number, review in enumerate(reviews, start=1)]
    rows = []
    for key in keys:
        cells, before = [], None
        for label, review in zip(labels, reviews, strict=True):
            found = by_review[review.pk].get(key)
            if found is None:
                cells.append(ComparedAnswer(review=label, text="", changed=False, asked=False))
                continue
            text = _text(*found)
            cells.append(ComparedAnswer(review=label, text=text, changed=before is not None and text != before))
            before = text
        latest = next(found[0] for review in reversed(reviews) if (found := by_review[review.pk].get(key)))
        rows.append(ComparisonRow(question=latest.question.wording, about=names.get(key[1], "Family"), cells=cells))
    lines, radars = _charts(reviews, labels, by_review, names, items)
    return Comparison(reviews=reviews, labels=labels, rows=rows, line_charts=lines, radar_charts=radars,
                      hidden_members=hidden)  # fmt: skip


def _scores(reviews, by_review) -> dict:
    """{(domain name, aggregate): {(subject, who): [score per review]}}, who being "worker" or "family"."""
    found: dict = {}
    for index, review in enumerate(reviews):
        collected: dict = {}
        for (_, subject), (item, answer) in by_review[review.pk].items():
            if item.domain_id is None:
                continue
            worker, family = answer_points(item, answer)
            domain = (item.domain.name, item.domain.aggregate)
            for who, points in (("worker", worker), ("family", family)):
                if points is not None:
                    collected.setdefault(domain, {}).setdefault((subject, who), []).append(float(points))
        for domain, series in collected.items():
            for key, values in series.items():
                found.setdefault(domain, {}).setdefault(key, [None] * len(reviews))[index] = _aggregate(
                    values, domain[1]
                )
    return found


def _slug(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
    return "-".join(part for part in kept.split("-") if part)[:40] or "x"


def _charts(reviews, labels, by_review, names, items) -> tuple[list[Chart], list[Chart]]:
    scores = _scores(reviews, by_review)
    if not scores:
        return [], []
    everything = [
        value for series in scores.values() for values in series.values() for value in values if value is not None
    ]
    low, high = min(0.0, min(everything)), max(everything)
    scales = [item.question.scale_points for item in items.values() if item.domain_id and item.question.is_scale]
    if scales and all(value <= max(scales) for value in everything):
        low, high = (1.0 if low >= 1 else low), float(max(scales))
    high = high if high > low else low + 1

    def who_name(subject, who: str) -> str:
        return f"{names.get(subject, 'Family')}: {'family' if who == 'family' else 'worker'}"

    lines = []
    for number, ((domain, aggregate), series) in enumerate(sorted(scores.items()), start=1):
        ordered = sorted(series.items(), key=lambda kv: (kv[0][0] is not None, names.get(kv[0][0], ""), kv[0][1]))
        lines.append(line_chart(
            chart_id=f"line-{number}-{_slug(domain)}", title=f"{domain}: the score over the reviews",
            description=f"The {'average' if aggregate == 'mean' else 'total'} score of {domain} at each review, "
                        "the worker's and the family's separately (the family's dashed).",
            x_labels=labels, minimum=low, maximum=high,
            series=[Series(name=who_name(subject, who), values=values, dashed=who == "family")
                    for (subject, who), values in ordered[:8]],
        ))  # fmt: skip
    radars = []
    domains = sorted(scores)
    if len(domains) >= 3:
        subjects = sorted({subject for series in scores.values() for subject, _ in series},
                          key=lambda s: (s is not None, names.get(s, "")))  # fmt: skip
        ends = [0, len(reviews) - 1] if len(reviews) > 1 else [0]
        for number, subject in enumerate(subjects, start=1):
            series = []
            for who in ("worker", "family"):
                for end in ends:
                    values = [scores[d].get((subject, who), [None] * len(reviews))[end] for d in domains]
                    if any(v is not None for v in values):
                        when = "first" if end == 0 and len(ends) > 1 else "latest"
                        whose = "Family" if who == "family" else "Worker"
                        name = f"{whose}'s score, {when} ({labels[end]})"
                        series.append(Series(name=name, values=values, dashed=who == "family"))
            if series:
                about = names.get(subject, "the family")
                radars.append(radar_chart(
                    chart_id=f"radar-{number}", title=f"{about}: first and latest review",
                    description=f"Each domain's score for {about} at the first and the latest review, the worker's "
                                "and the family's (dashed); further from the centre is better.",
                    axes=[d[0] for d in domains], series=series, minimum=low, maximum=high,
                ))  # fmt: skip
    return lines, radars
