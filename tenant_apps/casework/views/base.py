"""The plumbing every casework page shares, kept in this one place (to move onto the floor later).

Each view parses a form, calls one selector or service, and redirects after a successful POST
(with a success banner) or re-renders the form with its errors named by field. A viewer
(read-only role) gets the 403 page on every form before anything is read or written, and the
services check again (fail closed).
"""

from __future__ import annotations

import functools

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

PER_PAGE = 25  # rows of a list page
GET_POST = require_http_methods(["GET", "POST"])


def forbidden(request):
    return render(request, "casework/403.html", status=403)


def writers_only(view):
    """Viewers (read-only) get the 403 page before the view reads anything; so does a
    refusal from a service (``PermissionDenied``)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_read_only:
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden(request)

    return wrapped


def posted(request):
    """The POSTed data, or None for a GET (an unbound form)."""
    return request.POST if request.method == "POST" else None


def apply_errors(form: forms.Form, error: ValidationError, rename: dict | None = None) -> None:
    """Put a service's errors on the form: on the field they name (``rename``: the service's
    name for it -> the form's), else on the whole form."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = rename.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def filter_query(request) -> str:
    """The list's query string without its page: what the pagination links keep."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
