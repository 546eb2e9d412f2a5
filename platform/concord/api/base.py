"""The base of every API view, and the one way to validate its input.

``BaseApi``: a verified user (``IsVerified``), writes by writers only (``WritersOnly``: a
viewer's POST, PATCH or DELETE is refused before its input is read), and JSON with ``<``,
``>`` and ``&`` escaped (``EscapedJSONRenderer``). A view open to viewers for a write that
only reads (a search POSTed so that terms stay out of URLs) sets
``permission_classes = [IsVerified]`` (and ``api_reads_only = True``).

A request with an API client's token is also held to the client's scopes here
(``concord.api.clients``): each class declares its ``api_area``; the check runs whatever the
class's permission classes are, so overriding them cannot drop it.

A body of a type the view does not parse is a 415 (``refuse_unsupported_body``), after the
permissions: JSON only, multipart on the views that take files (they set ``parser_classes``).
"""

from __future__ import annotations

from rest_framework.views import APIView

from concord.api.clients import scope_refusal
from concord.api.parsers import refuse_unsupported_body
from concord.api.permissions import IsVerified, WritersOnly
from concord.api.renderers import EscapedJSONRenderer


class BaseApi(APIView):
    permission_classes = [IsVerified, WritersOnly]
    renderer_classes = [EscapedJSONRenderer]
    api_area: str | None = None  # one of concord.api.clients.AREAS (or ANY_CLIENT); None: no token may call it
    api_reads_only = False  # True: every method only reads (a POSTed search), so a read scope suffices
    # What a read of this class counts as against the bulk-read limits (REST_FRAMEWORK's throttle):
    # None: a read of its area ("search" for search); "download" for a document's download.
    read_limit: str | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # who is asking, and may they, come first
        refuse_unsupported_body(request)  # JSON only (multipart where a view takes files): else 415

    def check_permissions(self, request):
        refusal = scope_refusal(request, self)  # first: a token's missing scope is the clearer answer
        if refusal is not None:
            raise refusal
        super().check_permissions(request)


def valid(serializer_class, data, **kwargs) -> dict:
    """``data`` validated by ``serializer_class`` (a 400 naming each invalid field)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
