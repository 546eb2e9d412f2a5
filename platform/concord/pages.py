"""Helpers of every app's pages (floor: imports only Django and ``concord.errors``).

- ``GET_POST``: a form page's methods (anything else answers 405);
- ``posted(request)``: the form data of a POST, else None (a form bound only when sent);
- ``REFUSALS`` and ``apply_errors(form, error, rename=None)``: the one form helper that maps a
  service's refusal onto the form it came from: a ``ValidationError`` on the fields it names,
  a domain error (``concord.errors``: a stale version, storage down...) on the form as a whole
  (or on the field named for its ``code``);
- ``refusal_message(error)``: a refusal as one line, for a banner on a page without its form;
- ``forbidden(request, template)``: the app's 403 page;
- ``writers_only(template)``: a decorator giving viewers (the read-only role) that 403 page
  before the view reads anything, and the same page for a service's ``PermissionDenied``.

A view catches ``REFUSALS``, calls ``apply_errors`` and shows the form again::

    try:
        services.task_set_status(user=request.user, ...)
    except REFUSALS as error:
        apply_errors(form, error)
"""

from __future__ import annotations

import functools

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from concord.errors import DomainError

GET_POST = require_http_methods(["GET", "POST"])

# What a service raises that a page shows on its form (anything else is a 403, a 404 or a bug).
REFUSALS = (ValidationError, DomainError)


def posted(request):
    """The form data of a POST (even an empty one, as a confirmation button sends), else None."""
    return request.POST if request.method == "POST" else None


def apply_errors(form: forms.Form, error: ValidationError | DomainError, rename: dict | None = None) -> None:
    """Put a service's refusal on the form: a ``ValidationError``'s messages on the field they
    name (``rename`` maps a service's name to the form's: ``{"grantee": "team"}``), else on the
    whole form; a domain error's message on the whole form, or on the field ``rename`` names for
    its ``code`` (``{"storage_unavailable": "attachments"}``: the files that could not be stored)."""
    rename = rename or {}
    if isinstance(error, DomainError):
        field = rename.get(error.code)
        form.add_error(field if field in form.fields else None, error.message)
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = rename.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def refusal_message(error: ValidationError | DomainError) -> str:
    """A service's refusal as one line for a banner (a page with no form to put it on)."""
    if isinstance(error, DomainError):
        return error.message
    return " ".join(error.messages)


def forbidden(request, template: str) -> HttpResponse:
    """The 403 page ``template`` (each app says in its own words what the user cannot do)."""
    return render(request, template, status=403)


def writers_only(template: str):
    """A decorator: viewers (read-only) get the 403 page ``template`` before the view reads
    anything; so does a refusal from a service (``PermissionDenied``)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.is_read_only:
                return forbidden(request, template)
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied:
                return forbidden(request, template)

        return wrapped

    return decorator


__all__ = ["GET_POST", "REFUSALS", "apply_errors", "forbidden", "posted", "refusal_message", "writers_only"]
