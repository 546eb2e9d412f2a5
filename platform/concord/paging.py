"""Page-number paging for pages (floor: imports only Django).

- ``requested_page(request, object_list, per_page=)``: the page ``?page=`` asks for (the
  first for a missing or malformed number, the last for one past the end);
- ``filter_query(query)``: a query (``request.GET``) without ``page``, for the pagination links;
- ``CountedPaginator``: a paginator told how many items there are, for a list whose count
  is cheaper read another way (a case's timeline counts its live entries from a partial
  index, without building a count of the annotated query).
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def requested_page(request, object_list, *, per_page: int) -> Page:
    """The page of ``object_list`` that ``?page=`` asks for; its ``paginator`` gives the rest."""
    return Paginator(object_list, per_page).get_page(request.GET.get("page"))


def filter_query(query: QueryDict) -> str:
    """``query`` (a request's ``GET``) without ``page``, urlencoded (the filters a page link keeps)."""
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()


__all__ = ["CountedPaginator", "filter_query", "requested_page"]
