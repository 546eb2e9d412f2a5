"""Pages of results: ``?page=``, 50 a page, answered as ``count``, ``next``, ``previous``, ``results``
(documented by ``concord.api.schema.page_of``)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50


def paginated(request, view, queryset, serializer_class):
    """The page of ``queryset`` the request asks for, serialised (404 for a page past the end)."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
