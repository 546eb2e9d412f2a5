"""The API base: session authentication, OpenAPI schema, one JSON error shape."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


def test_anonymous_requests_get_the_error_shape(db, suffolk_client):
    response = suffolk_client.get("/api/v1/me/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["status"] == 403 and error["code"] == "not_authenticated" and error["message"]


def test_unknown_api_path_is_404_in_the_error_shape(db, alice_client):
    response = alice_client.get("/api/v1/nothing/")
    assert response.status_code == 404
    assert response.json() == {"error": {"status": 404, "code": "not_found", "message": "Not found."}}


def test_me_answers_for_the_signed_in_user(db, alice_client):
    assert alice_client.get("/api/v1/me/").json() == {
        "email": "alice@suffolk.test",
        "full_name": "Alice Adams",
        "role": "admin",
        "partnership": "Suffolk Community Safety Partnership",
    }


def test_openapi_schema_and_browsable_docs(db, alice_client):
    schema = alice_client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me/" in document["paths"]
    docs = alice_client.get("/api/docs/")  # the accessible reference (tests/test_api_docs.py), not Swagger UI
    assert docs.status_code == 200 and 'id="operation-v1_me_retrieve"' in docs.content.decode()
    assert b"swagger" not in docs.content.lower()


def test_authentication_is_an_api_clients_token_first_then_the_session():
    """No other token scheme (DRF's TokenAuthentication, basic auth) is configured: a Bearer token
    is an API client's (tests/test_api_clients.py), and without one the session decides."""
    from django.conf import settings

    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert classes == [
        "tenant_apps.directory.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ]


class _Input(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    born = serializers.DateField()


class _EchoView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):
        data = _Input(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["name"] == "dup":
            raise DjangoValidationError({"name": ["A record with this name already exists."]})
        return None


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "toolongname", "born": "2001-02-30"}, {"name", "born"}),
        ({"born": "2001-01-01"}, {"name"}),
        ({"name": "dup", "born": "2001-01-01"}, {"name"}),  # a service's domain error maps the same way
    ],
)
def test_validation_errors_name_the_fields(payload, fields):
    request = APIRequestFactory().post("/x/", payload, format="json")
    response = _EchoView.as_view()(request)
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == fields
    assert all(isinstance(message, str) for messages in error["fields"].values() for message in messages)


class _RefusingView(APIView):
    """Raises the domain error it is given, as a service would."""

    authentication_classes: list = []
    permission_classes: list = []
    error: Exception = Exception()

    def get(self, request):
        raise self.error


def _answer_to(error):
    return _RefusingView.as_view(error=error)(APIRequestFactory().get("/x/"))


def test_every_domain_error_is_mapped_once_with_its_code_and_message():
    from concord import errors

    stale = _answer_to(errors.ChangedSinceOpened())
    assert stale.status_code == 409
    assert stale.data == {"error": {"status": 409, "code": "changed_since_opened",
                                    "message": errors.ChangedSinceOpened.message}}  # fmt: skip
    assert "Retry-After" not in stale

    storage = _answer_to(errors.StorageUnavailable())
    assert storage.status_code == 503 and storage["Retry-After"] == "60"
    error = storage.data["error"]
    assert error["code"] == "storage_unavailable" and "nothing was saved" in error["message"]
    outage = _answer_to(errors.Unavailable())
    assert (outage.status_code, outage.data["error"]["code"], outage["Retry-After"]) == (503, "unavailable", "60")

    missing = _answer_to(errors.DocumentMissing())
    assert (missing.status_code, missing.data["error"]["code"]) == (404, "document_missing")

    class AlreadyDone(errors.Conflict):  # a new kind of conflict needs no new mapping
        code, message = "already_done", "Someone did this a moment ago."

    done = _answer_to(AlreadyDone())
    assert (done.status_code, done.data["error"]["code"], done.data["error"]["message"]) == (
        409, "already_done", "Someone did this a moment ago."
    )  # fmt: skip
    other = _answer_to(errors.DomainError("Not like that."))
    assert (other.status_code, other.data["error"]["message"]) == (400, "Not like that.")


def test_the_floor_loads_whichever_of_drf_and_concord_api_is_imported_first():
    """DRF imports the default permission and parser while it defines ``APIView``; ``concord.api``
    holds both and a subclass of ``APIView``: neither order of first imports may fail."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{repo}{os.pathsep}{repo / 'platform'}"}
    for first in ("rest_framework.views", "concord.api.base", "concord.api.parsers", "concord.api.renderers"):
        code = (
            "import django; django.setup(); "
            f"import {first}; from concord.api import BaseApi, EscapedJSONRenderer, IsVerified, JSONParser; "
            "from rest_framework.views import APIView; "
            "assert APIView.permission_classes == [IsVerified] and JSONParser in APIView.parser_classes; "
            "assert APIView.renderer_classes == [EscapedJSONRenderer]"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                              env=env, cwd=repo)  # fmt: skip
        assert done.returncode == 0, (first, done.stderr[-2000:])
