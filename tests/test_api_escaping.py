"""Every API answers JSON with ``<``, ``>`` and ``&`` escaped (``\\u003c`` ...): the same strings
once parsed, but no stored ``<script>`` in the bytes, whatever a client does with them.

Casework's own answers are checked in tests/test_casework_api.py
(``test_markup_is_stored_and_returned_as_text``); here tasks, search and accounts, and a
rule over every API path the partnership URLconf serves.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context

from concord.api import EscapedJSONRenderer
from tenant_apps.accounts.models import User
from tenant_apps.casework import services
from tenant_apps.casework.models import CaseType
from tests.test_search import make_profile
from tests.test_tasks import client_as, fresh, task_for_dans_team

MARKUP = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


def escaped(response, text: str = MARKUP) -> bool:
    """The answer carries ``text`` once parsed, and no raw ``<``, ``>`` or ``&`` in its bytes."""
    body = response.content
    return (
        response["Content-Type"] == "application/json"
        and not {b"<", b">", b"&"} & {bytes([c]) for c in body}
        and b"\\u003cscript\\u003e" in body
        and b"\\u0026" in body
        and text in response.content.decode("unicode_escape")
    )


def test_the_tasks_api_escapes_markup(cast):
    task = task_for_dans_team(cast, title=MARKUP[:200], details=MARKUP)
    bob = client_as(cast["bob"])
    detail = bob.get(f"/api/v1/tasks/{task.pk}/")
    assert detail.status_code == 200 and detail.json()["details"] == MARKUP and escaped(detail)
    listed = bob.get("/api/v1/tasks/", {"scope": "created"})
    assert listed.json()["results"][0]["title"] == MARKUP and escaped(listed)
    reply = bob.post(f"/api/v1/tasks/{task.pk}/replies/", {"body": MARKUP}, content_type="application/json")
    assert reply.status_code == 201 and reply.json()["body"] == MARKUP and escaped(reply)


def test_the_search_api_escapes_markup(cast):
    kyle = make_profile(cast)
    case = services.case_create(user=fresh(cast["bob"]), case_type=CaseType.objects.get(code="ASB"), title=MARKUP,
                                owning_team=cast["asb"], subjects=[(kyle, "perpetrator")])  # fmt: skip
    found = client_as(cast["bob"]).post("/api/v1/search/", {"query": case.reference}, content_type="application/json")
    assert found.status_code == 200 and found.json()["cases"][0]["title"] == MARKUP and escaped(found)


def test_the_accounts_api_escapes_markup(db, alice_client):
    with schema_context("suffolk"):
        User.objects.filter(email="alice@suffolk.test").update(full_name=MARKUP)
    me = alice_client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["full_name"] == MARKUP and escaped(me)


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver("concord.urls_partnership")
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route, getattr(pattern.callback, "cls", None)


def _renders_escaped(cls) -> bool:
    """Every renderer the view may answer with escapes markup (tried, not named: casework has
    its own copy of the renderer until its pass moves it onto the floor's)."""
    renderers = [renderer() for renderer in getattr(cls, "renderer_classes", [])]
    return bool(renderers) and all(
        renderer.render({"text": "<b>&</b>"}) == b'{"text":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"}'
        for renderer in renderers
    )


def test_every_api_view_renders_escaped_json():
    views = list(_api_views())
    assert len(views) > 20  # casework, tasks, search and accounts
    assert [route for route, cls in views if not _renders_escaped(cls)] == []
    # And a DRF view that names no renderer (none of ours should) gets it too.
    from rest_framework.views import APIView

    assert APIView.renderer_classes == [EscapedJSONRenderer]
