"""Every URL of the project, generated from the URL resolver, under every kind of session.

A view added later is covered without anyone adding it here:
- anonymous: redirected to sign-in (pages) or refused with 403 (API), unless public;
- signed in with a password only: sent to the second-factor step (pages) or 403 (API);
- a verified Suffolk session sent to Norfolk's host: treated as anonymous.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tenant_apps.accounts import access
from tests.conftest import PASSWORD, forget_used_codes, sign_in

SAMPLE = {"int": "1", "str": "sample", "slug": "sample", "uuid": "00000000-0000-0000-0000-000000000001", "path": "x"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _concrete(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + _concrete(entry.pattern), entry.callback


def _concrete(pattern) -> str:
    text = str(pattern)
    if hasattr(pattern, "_route"):  # path(): <converter:name>
        return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "sample"), text)
    # re_path(): drop anchors and optional format suffixes, fill groups with a sample
    text = text.lstrip("^").rstrip("$").replace("\\.", ".")
    text = re.sub(r"\(\?P<format>[^)]*\)\??", "", text)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", text)
    return re.sub(r"[?*+]", "", text)


def urls(urlconf: str) -> list[tuple[str, str | None]]:
    found = [("/" + path, access.access_of(callback)) for path, callback in _walk(get_resolver(urlconf).url_patterns)]
    assert len(found) >= 5
    return found


PARTNERSHIP_URLS = urls("concord.urls_partnership")
PUBLIC_URLS = urls("concord.urls_public")


def _ids(items):
    return [path for path, _ in items]


def assert_refused_as_anonymous(response, path: str) -> None:
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), path
        assert response.json()["error"]["code"] == "not_authenticated"
    else:
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/sign-in/"), path


@pytest.mark.parametrize(("path", "mark"), PARTNERSHIP_URLS, ids=_ids(PARTNERSHIP_URLS))
def test_partnership_urls_anonymous(db, path, mark):
    for method in ("get", "post"):
        response = getattr(Client(HTTP_HOST="suffolk.localhost"), method)(path)
        if mark == access.PUBLIC:
            assert response.status_code in (200, 302, 400, 404, 405), path
        else:
            assert_refused_as_anonymous(response, path)


@pytest.mark.parametrize(("path", "mark"), PARTNERSHIP_URLS, ids=_ids(PARTNERSHIP_URLS))
def test_partnership_urls_with_a_password_only(db, path, mark):
    client = Client(HTTP_HOST="suffolk.localhost")
    assert client.post("/account/sign-in/", {"email": "bob@suffolk.test", "password": PASSWORD}).status_code == 302
    response = client.get(path)
    if mark in (access.PUBLIC, access.PASSWORD_ONLY):
        assert response.status_code in (200, 302, 400, 404, 405), path
    elif path.startswith("/api/"):
        assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required", path
    else:
        assert response.status_code == 302 and response["Location"] == "/account/two-factor/", path


@pytest.fixture(scope="module")
def suffolk_cookie(django_db_setup, django_db_blocker):
    """A verified Suffolk session (Alice, partnership admin)."""
    with django_db_blocker.unblock():
        client = Client(HTTP_HOST="suffolk.localhost")
        sign_in(client, "alice@suffolk.test")
        forget_used_codes()
        return client.cookies["concord_session"].value


@pytest.mark.parametrize(("path", "mark"), PARTNERSHIP_URLS, ids=_ids(PARTNERSHIP_URLS))
def test_a_suffolk_session_on_norfolk_is_anonymous(db, suffolk_cookie, path, mark):
    if mark == access.PUBLIC:
        pytest.skip("public: answers anyone")
    client = Client(HTTP_HOST="norfolk.localhost")
    client.cookies["concord_session"] = suffolk_cookie
    assert_refused_as_anonymous(client.get(path), path)


@pytest.mark.parametrize(("path", "mark"), PUBLIC_URLS, ids=_ids(PUBLIC_URLS))
def test_platform_urls_anonymous_and_with_a_partnership_session(db, suffolk_cookie, path, mark):
    anonymous = Client(HTTP_HOST="localhost")
    carried = Client(HTTP_HOST="localhost")
    carried.cookies["concord_session"] = suffolk_cookie
    for client in (anonymous, carried):
        response = client.get(path)
        if mark == access.PUBLIC:
            assert response.status_code in (200, 302, 400, 404, 405), path
        else:
            assert_refused_as_anonymous(response, path)


def test_the_walk_sees_the_views_that_matter():
    paths = _ids(PARTNERSHIP_URLS)
    for expected in ["/", "/api/v1/me/", "/api/schema/", "/account/sign-in/", "/admin/audit/"]:
        assert expected in paths
    assert "/operators/" in _ids(PUBLIC_URLS)
