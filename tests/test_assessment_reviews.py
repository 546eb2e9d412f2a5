"""Reviews and their comparison: a review starts as a copy of the last completed assessment, on
its template version or moved to the version in use (what changes said first); the comparison
shows every answer side by side and each domain's score over the reviews, in server-drawn SVG
with its data as a table, at the same query cost whatever the number of reviews.

Cast: tests/conftest.py's ``cast``; the Brennan family of tests/test_assessments.py.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from concord.errors import WrongState
from tenant_apps.assessments import selectors, services
from tenant_apps.assessments.models import Answer, Assessment
from tenant_apps.assessments.services import AnswerInput
from tenant_apps.tasks.models import partnership_today
from tests.test_casework_pages import client_as


def complete(cast, assessment, score: int) -> Assessment:
    page = selectors.assessment_page(user=cast["bob"], assessment=assessment)
    services.assessment_save(user=cast["bob"], assessment=assessment, answers=[
        AnswerInput(key=t.key, worker_score=str(score), family_score=str(min(10, score + 1)),
                    version=t.answer.version if t.answer else 0, original=None)
        for t in page.section(1).targets
    ])  # fmt: skip
    return services.assessment_complete(user=cast["bob"], assessment=assessment,
                                        review_date=partnership_today() + dt.timedelta(days=30))  # fmt: skip


def first_assessment(cast, family, template) -> Assessment:
    return services.assessment_start(user=cast["bob"], template=template, family=family["family"])


@pytest.mark.django_db
def test_a_review_copies_the_answers_and_a_second_review_of_the_same_one_is_refused(cast, family, outcomes):
    first = complete(cast, first_assessment(cast, family, outcomes), 3)
    review = services.assessment_review_start(user=cast["bob"], assessment=first)
    assert (review.previous, review.state, review.template_version) == (first, "in_progress", first.template_version)
    copied = {
        (a.item_id, a.member.profile_id, a.worker_score, a.family_score)
        for a in Answer.objects.filter(assessment=review)
    }
    original = {
        (a.item_id, a.member.profile_id, a.worker_score, a.family_score)
        for a in Answer.objects.filter(assessment=first)
    }
    assert copied == original and len(copied) == 20
    with pytest.raises(WrongState, match="has a review already"):
        services.assessment_review_start(user=cast["bob"], assessment=first)
    with pytest.raises(WrongState, match="Complete this assessment"):
        services.assessment_review_start(user=cast["bob"], assessment=review)


@pytest.mark.django_db
def test_a_review_moved_to_the_latest_version_says_what_changed_and_copies_what_it_can(cast, family, outcomes):
    first = complete(cast, first_assessment(cast, family, outcomes), 4)
    draft = services.template_draft_start(user=cast["bob"], template=outcomes)
    section = draft.sections.get()
    removed = section.items.order_by("position").first()
    services.template_item_remove(user=cast["bob"], item=removed)
    from shared_apps.question_bank.models import QuestionVersion

    services.template_item_add(user=cast["bob"], section=section,
                               bank_version=QuestionVersion.objects.get(question__code="HOU-01"))  # fmt: skip
    services.template_publish(user=cast["bob"], draft=draft)
    bob = client_as(cast, "bob")
    page = bob.get(f"/assessments/{first.pk}/review/")
    assert (
        page.status_code == 200
        and b"Added:" in page.content
        and b"Removed (their answers are not copied)" in page.content
    )
    started = bob.post(f"/assessments/{first.pk}/review/", {"version": "latest"})
    assert started.status_code == 302
    review = Assessment.objects.get(previous=first)
    assert review.template_version == draft
    assert Answer.objects.filter(assessment=review).count() == 18  # nine domains copied, for two members
    assert not Answer.objects.filter(assessment=review, item__bank_version=removed.bank_version).exists()


@pytest.mark.django_db
def test_the_comparison_shows_answers_side_by_side_and_the_scores_as_charts_with_tables(cast, family, outcomes):
    first = complete(cast, first_assessment(cast, family, outcomes), 3)
    second = complete(cast, services.assessment_review_start(user=cast["bob"], assessment=first), 3)
    third = services.assessment_review_start(user=cast["bob"], assessment=second)
    third = complete(cast, third, 7)
    comparison = selectors.assessment_comparison(user=cast["bob"], assessment=third)
    assert [r.pk for r in comparison.reviews] == [first.pk, second.pk, third.pk]
    row = comparison.rows[0]
    assert [c.text for c in row.cells] == ["Worker 3, family 4", "Worker 3, family 4", "Worker 7, family 8"]
    assert [c.changed for c in row.cells] == [False, False, True]
    assert len(comparison.line_charts) == 10 and len(comparison.radar_charts) == 2  # ten domains; two members
    radar = comparison.radar_charts[0]
    ET.fromstring(str(radar.svg))  # well-formed SVG  # noqa: S314
    assert radar.headers[0] == "Domain" and len(radar.rows) == 10
    assert any("first" in name for name in radar.headers) and any("latest" in name for name in radar.headers)
    page = client_as(cast, "bob").get(f"/assessments/{third.pk}/compare/")
    assert page.status_code == 200 and page.content.count(b"<svg") >= 12 + 8  # the charts, besides the menu's icons
    assert b"Show the data as a table" in page.content and b"Changed" in page.content
    assert b"<script" not in page.content.split(b"<main")[1].split(b"</main>")[0]


@pytest.mark.django_db
def test_the_comparison_costs_the_same_queries_whatever_the_number_of_reviews(cast, family, outcomes):
    bob = client_as(cast, "bob")
    latest = complete(cast, first_assessment(cast, family, outcomes), 2)
    counts = {}
    for reviews in range(2, 11):
        latest = complete(cast, services.assessment_review_start(user=cast["bob"], assessment=latest), reviews % 10 + 1)
        if reviews in (2, 10):
            bob.get(f"/assessments/{latest.pk}/compare/")
            with CaptureQueriesContext(connection) as queries:
                assert bob.get(f"/assessments/{latest.pk}/compare/").status_code == 200
            counts[reviews] = len(queries)
    assert counts[2] == counts[10], counts


@pytest.mark.django_db
def test_a_review_hides_what_the_reviewer_may_not_see(cast, family, outcomes):
    first = complete(cast, first_assessment(cast, family, outcomes), 5)
    with pytest.raises(Http404):
        selectors.access_assessment(user=cast["dan"], assessment_id=first.pk)
    assert client_as(cast, "dan").get(f"/assessments/{first.pk}/compare/").status_code == 404
    assert client_as(cast, "vera").post(f"/assessments/{first.pk}/review/").status_code == 403
    assert not Assessment.objects.filter(previous=first).exists()


@pytest.mark.django_db
def test_the_demo_seeds_a_familys_outcomes_over_three_reviews(cast, family):
    """What ``make run`` shows: the demo's history, compared (the demo's seed, run in a test schema)."""
    from tenant_apps.assessments import demo

    class Demo:
        council = "bob@suffolk.test"

    demo.seed(Demo())
    chain = list(Assessment.objects.order_by("pk"))
    assert [a.state for a in chain] == ["completed", "completed", "in_progress"]
    assert chain[0].completed_at < chain[1].completed_at and chain[2].previous == chain[1]
    comparison = selectors.assessment_comparison(user=cast["bob"], assessment=chain[2])
    assert len(comparison.reviews) == 3 and len(comparison.radar_charts) == 2 and len(comparison.line_charts) == 10
