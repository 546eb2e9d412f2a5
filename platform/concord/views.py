from django.http import JsonResponse
from django.shortcuts import render

from tenant_apps.accounts import access


def home(request):
    return render(request, "home.html")


@access.public
def public_home(request):
    return render(request, "public_home.html")


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": status, "code": code, "message": message}}, status=status)


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", "Not found.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return _api_error(500, "server_error", "Something went wrong. It has been reported.")
    return render(request, "500.html", status=500)
