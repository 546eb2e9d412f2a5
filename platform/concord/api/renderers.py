"""The answer's bytes: JSON in which no stored text can be read as markup."""

from __future__ import annotations

from rest_framework.renderers import JSONRenderer


class EscapedJSONRenderer(JSONRenderer):
    """JSON with ``<``, ``>`` and ``&`` as unicode escapes: still the same strings when parsed,
    but no stored ``<script>`` appears in the bytes, whatever a client does with them."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        body = super().render(data, accepted_media_type, renderer_context)
        return body.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
