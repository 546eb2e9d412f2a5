"""The base of every API view, and the one way to validate its input.

``BaseApi``: a verified user (``IsVerified``), writes by writers only (``WritersOnly``: a
viewer's POST, PATCH or DELETE is refused before its input is read), and JSON with ``<``,
``>`` and ``&`` escaped (``EscapedJSONRenderer``). A view open to viewers for a write that
only reads (a search POSTed so that terms stay out of URLs) sets
``permission_classes = [IsVerified]``.
"""

from __future__ import annotations

from rest_framework.views import APIView

from concord.api.permissions import IsVerified, WritersOnly
from concord.api.renderers import EscapedJSONRenderer


class BaseApi(APIView):
    permission_classes = [IsVerified, WritersOnly]
    renderer_classes = [EscapedJSONRenderer]


def valid(serializer_class, data, **kwargs) -> dict:
    """``data`` validated by ``serializer_class`` (a 400 naming each invalid field)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
