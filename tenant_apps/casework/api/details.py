"""The API of a profile's details, built from ``DETAIL_KINDS``: for each kind, a list-and-add class
(``/profiles/<id>/<plural>/``) and a remove class (``/profiles/<id>/<plural>/<item_id>/``).

Every answer carries the profile's ``version`` after the change: the next change sends it.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from concord.api import BaseApi, valid
from tenant_apps.casework import selectors, services
from tenant_apps.casework.api.base import VERSION_HELP, VERSION_PARAMETER, version_of
from tenant_apps.casework.detail_kinds import DETAIL_KINDS, DetailKind
from tenant_apps.casework.idempotency import IDEMPOTENCY_PARAMETER, api_create_once

__all__ = ["DETAIL_APIS", "DETAIL_KINDS"]


def _serializer(name: str, fields: dict) -> type[serializers.Serializer]:
    meta = type("Meta", (), {"ref_name": name})
    return type(name, (serializers.Serializer,), {**fields, "Meta": meta})


def _apis(kind: DetailKind) -> tuple[type[BaseApi], type[BaseApi]]:
    """The list-and-add and the remove classes of one kind of detail."""
    component = kind.component
    ItemOutput = _serializer(f"Profile{component}Item", {"id": serializers.IntegerField(), **kind.output_fields()})
    ListOutput = inline_serializer(
        name=f"Profile{component}List",
        fields={"profile_version": serializers.IntegerField(), "results": ItemOutput(many=True)},
    )
    AddOutput = inline_serializer(
        name=f"Profile{component}Added",
        fields={"profile_version": serializers.IntegerField(), "item": ItemOutput()},
    )
    RemoveOutput = inline_serializer(
        name=f"Profile{component}Removed", fields={"profile_version": serializers.IntegerField()}
    )
    Input = _serializer(
        f"Profile{component}AddInput",
        {"version": serializers.IntegerField(min_value=1, help_text=VERSION_HELP), **kind.input_fields()},
    )

    class ListAddApi(BaseApi):
        api_area = "profiles"
        InputSerializer = Input
        OutputSerializer = ItemOutput

        @extend_schema(operation_id=f"profiles_{kind.plural}_list", responses=ListOutput)
        def get(self, request, profile_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)
            items = selectors.details_of(profile=profile, model=kind.model)
            services.record_viewed(user=request.user, request=request, record=profile, what=kind.plural)
            return Response({"profile_version": profile.version, "results": ItemOutput(items, many=True).data})

        @extend_schema(
            operation_id=f"profiles_{kind.plural}_add",
            parameters=[IDEMPOTENCY_PARAMETER],
            request=Input,
            responses={201: AddOutput},
        )
        def post(self, request, profile_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)

            def create():
                data = valid(Input, request.data)
                item = kind.add(user=request.user, request=request, profile=profile, **data)
                profile.refresh_from_db(fields=["version"])  # in the transaction: before the commit
                answer = {"profile_version": profile.version, "item": ItemOutput(item).data}
                return Response(answer, status=status.HTTP_201_CREATED)

            return api_create_once(request, create)

    class RemoveApi(BaseApi):
        api_area = "profiles"

        @extend_schema(
            operation_id=f"profiles_{kind.plural}_remove", parameters=[VERSION_PARAMETER], responses={200: RemoveOutput}
        )
        def delete(self, request, profile_id, item_id):
            profile = selectors.access_profile(user=request.user, profile_id=profile_id)
            version = version_of(request)
            profile = kind.remove(user=request.user, request=request, profile=profile, version=version,
                                  **{kind.remove_key: item_id})  # fmt: skip
            return Response({"profile_version": profile.version})

    ListAddApi.__name__ = ListAddApi.__qualname__ = f"Profile{component}ListAddApi"
    RemoveApi.__name__ = RemoveApi.__qualname__ = f"Profile{component}RemoveApi"
    return ListAddApi, RemoveApi


# kind (plural) -> (its list-and-add class, its remove class)
DETAIL_APIS = {plural: _apis(kind) for plural, kind in DETAIL_KINDS.items()}
