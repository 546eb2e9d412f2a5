import sys

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from concord.errors import RETRY_AFTER_SECONDS
from concord.observability import new_error_reference
from concord.postgresql.faults import READ_ONLY, database_fault
from tenant_apps.accounts import access


@access.public
def public_home(request):
    return render(request, "public_home.html")


def _api_error(status: int, code: str, message: str, **extra: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "code": code, "message": message, **extra}}, status=status)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def server_error(request):
    """Django's handler500, called while the exception is being handled.

    A database fault (unreachable, or refusing writes) answers 503 with a page or JSON
    saying so (``service_unavailable``); anything else is the generic 500, with the request's
    error reference to quote to support (also in the error's log line and its Sentry event).
    """
    fault = database_fault(sys.exc_info()[1])
    if fault is not None:
        return service_unavailable(request, read_only=fault == READ_ONLY)
    reference = getattr(request, "error_reference", None)
    if reference is None:  # a request that failed before ErrorReferenceMiddleware
        reference = request.error_reference = new_error_reference()
    if request.path.startswith("/api/"):
        message = f"Something went wrong. It has been reported: quote reference {reference} to support."
        return _api_error(500, "server_error", message, reference=reference)
    return render(request, "500.html", {"error_reference": reference}, status=500)


def service_unavailable(request, *, read_only: bool) -> HttpResponse:
    """503 for a database fault, rendered without touching the database.

    No request context: the context processors would load the session's user, which needs
    the database that has just failed (and a failure inside the error page is a bare 500).
    """
    if read_only:
        code, message = (
            "read_only",
            "Concord is read-only: changes can't be saved right now. Try again in a few minutes.",
        )
    else:
        code, message = "unavailable", "Concord is unavailable, try again in a minute."
    if request.path.startswith("/api/"):
        response = _api_error(503, code, message)
    else:
        tenant = getattr(request, "tenant", None)
        context = {
            "read_only": read_only,
            "partnership_name": getattr(tenant, "name", "Concord"),
            "is_public_site": getattr(tenant, "schema_name", "public") == "public",
        }
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
