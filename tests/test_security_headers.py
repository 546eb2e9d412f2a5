"""Security defaults on every response, whoever answered it."""

import re
from pathlib import Path

import pytest
from django.test import Client

from tenants.provisioning import partnership_suspend
from tests.conftest import REPO

REQUIRED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",  # early answers too (tests/test_early_response_headers.py)
}


def assert_secure(response):
    for header, value in REQUIRED.items():
        assert response[header] == value, header
    policy = response["Content-Security-Policy"]
    scripts = re.search(r"script-src ([^;]+)", policy) or re.search(r"default-src ([^;]+)", policy)
    assert scripts and "'unsafe-inline'" not in scripts.group(1) and "'unsafe-eval'" not in scripts.group(1)
    assert "frame-ancestors 'none'" in policy
    assert "no-store" in response["Cache-Control"]


def test_headers_on_anonymous_and_error_responses(db):
    responses = [
        Client(HTTP_HOST="localhost").get("/"),
        Client(HTTP_HOST="localhost").get("/missing/"),
        Client(HTTP_HOST="suffolk.localhost").get("/"),
        Client(HTTP_HOST="suffolk.localhost").get("/account/sign-in/"),
        Client(HTTP_HOST="suffolk.localhost").get("/api/v1/me/"),
        Client(HTTP_HOST="nowhere.localhost").get("/"),
        Client(HTTP_HOST="evil.example").get("/"),
        Client(HTTP_HOST="anything.example").get("/healthz"),
    ]
    for response in responses:
        assert_secure(response)


def test_headers_on_signed_in_pages_and_api(db, alice_client):
    for path in ["/", "/api/v1/me/", "/api/schema/", "/api/docs/"]:
        response = alice_client.get(path)
        assert response.status_code == 200, path
        assert_secure(response)
        assert "private" in response["Cache-Control"]


def test_headers_on_the_suspended_page(db, suffolk):
    partnership_suspend(partnership=suffolk)
    assert_secure(Client(HTTP_HOST="suffolk.localhost").get("/"))


TEMPLATE_DIRS = [REPO / "platform", REPO / "tenants", REPO / "tenant_apps", REPO / "shared_apps"]


@pytest.mark.parametrize("template", [p for d in TEMPLATE_DIRS for p in d.rglob("templates/**/*.html")], ids=str)
def test_templates_have_no_inline_script_or_handlers(template: Path):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script> (the CSP refuses it)"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"\sstyle\s*=", text), "inline style attribute"


def test_the_api_docs_page_runs_without_inline_script(db, alice_client):
    page = alice_client.get("/api/docs/").content.decode()
    assert "<script" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page)
