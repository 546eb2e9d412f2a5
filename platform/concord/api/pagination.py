"""Pages of results: ``?page=``, 50 a page, answered as ``count``, ``next``, ``previous``, ``results``
(documented by ``concord.api.schema.page_of``).

``CountedPagination(count)``: the same pages of a list whose count is known more cheaply than by
counting the query (``concord.paging.CountedPaginator``: a case's timeline).
"""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

from concord.paging import CountedPaginator


class Pagination(PageNumberPagination):
    page_size = 50


class CountedPagination(Pagination):
    """The API's pages of a list of ``count`` items (the count is not read from the query)."""

    def __init__(self, count: int):
        self.known_count = count

    def django_paginator_class(self, queryset, page_size):
        return CountedPaginator(queryset, page_size, count=self.known_count)


def paginated(request, view, queryset, serializer_class):
    """The page of ``queryset`` the request asks for, serialised (404 for a page past the end)."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
