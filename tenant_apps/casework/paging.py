"""A paginator told how many items there are, for a list whose count is cheaper read another way.

A case's timeline is listed with readability and the recorder annotated; its count is that of
the case's live entries, read from the partial index on its own (``selectors.live_entry_count``)
without building a count of the annotated query.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count
