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
    docs = alice_client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_token_authentication_is_not_configured():
    from django.conf import settings

    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert classes == ["rest_framework.authentication.SessionAuthentication"]


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
