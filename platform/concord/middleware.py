"""Request middleware: health check, host -> partnership routing, security headers.

Order (settings.MIDDLEWARE): security headers (outermost, on every response), ``/healthz``
(any host, plain HTTP allowed for load balancers), hosts outside ALLOWED_HOSTS (404),
Django's SecurityMiddleware (the HTTPS redirect for everything else: static files, the
suspended page, unknown partnership hosts), static files, then the partnership.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django.utils.cache import patch_cache_control

from concord.observability import new_error_reference, tag_error_reports_with_reference
from tenants.hosts import host_cache
from tenants.models import Partnership, PublicSite


class ErrorReferenceMiddleware:
    """Give every request its error reference (``request.error_reference``), before anything
    can fail, and put it on the request's Sentry events: an error raised anywhere later (a
    view, a middleware) is reported with the reference its 500 shows (concord.observability)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.error_reference = new_error_reference()
        if settings.SENTRY_DSN:
            tag_error_reports_with_reference(request.error_reference)
        return self.get_response(request)


class HealthCheckMiddleware:
    """``/healthz`` on any host, without authentication: 200 if the database answers, else 503.

    The answer comes within about ``HEALTHZ_DATABASE_TIMEOUT`` seconds even while the
    database is down (a load balancer must not wait for a hung probe)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            pool = connection.pool
            if pool is not None:
                # A connection of this process's pool within HEALTHZ_DATABASE_TIMEOUT (not the
                # pages' longer checkout timeout), checked by a round trip.
                pool.open()  # a no-op once open (Django opens it at the first checkout)
                with pool.connection(timeout=settings.HEALTHZ_DATABASE_TIMEOUT) as conn:
                    conn.execute("SELECT 1").fetchone()
            else:
                connection.set_schema_to_public()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
        except (DatabaseError, psycopg.Error):
            connection.close()
            return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
        return JsonResponse({"status": "ok", "database": "ok"})


class PartnershipMiddleware:
    """Select the schema from the host. Must come before session and auth middleware.

    - ``<PLATFORM_DOMAIN>``: the public schema, public URLconf (public site, operators).
    - ``<slug>.<PLATFORM_DOMAIN>`` of an active partnership: its schema and URLconf.
    - a suspended partnership: a clear page, nothing else (data is kept).
    - anything else: 404, never the public schema.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            # Validated by DisallowedHostMiddleware (earlier in MIDDLEWARE); validated here otherwise.
            host = getattr(request, "validated_host", None) or request.get_host()
        except DisallowedHost:
            connection.set_schema_to_public()
            return _not_found(request)
        hostname = host.split(":")[0].lower()

        if hostname == settings.PLATFORM_DOMAIN:
            connection.set_schema_to_public()
            request.tenant = PublicSite()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        else:
            partnership = host_cache.get(hostname)
            if partnership is None:
                connection.set_schema_to_public()
                return _not_found(request)
            request.tenant = partnership
            if partnership.status != Partnership.Status.ACTIVE:
                connection.set_schema_to_public()
                if request.path.startswith(settings.STATIC_URL):
                    return self.get_response(request)
                return render(request, "suspended.html", {"partnership": partnership}, status=403)
            _use_schema_of(partnership)
            # The partnership's URLconf is ROOT_URLCONF, which Django's handler has just set for
            # this thread (``BaseHandler.get_response``): nothing to set (two context-local writes).
            _tag_error_reports(partnership.schema_name)
            return self.get_response(request)
        set_urlconf(request.urlconf)
        _tag_error_reports(request.tenant.schema_name)
        return self.get_response(request)


def _use_schema_of(partnership: Partnership) -> None:
    """Point the connection at the partnership's schema.

    A persistent connection often still has this schema from the previous
    request: ``set_tenant`` would forget that and cost a ``SET search_path``
    round trip, so it is called only when the schema differs. django-tenants
    forgets the search path itself whenever a connection closes or rolls back.
    """
    wrapper = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    if wrapper.schema_name == partnership.schema_name and wrapper.search_path_set_schemas:
        wrapper.tenant = partnership
    else:
        wrapper.set_tenant(partnership)


def _tag_error_reports(schema_name: str) -> None:
    if settings.SENTRY_DSN:
        import sentry_sdk

        sentry_sdk.set_tag("partnership", schema_name)


def _not_found(request) -> HttpResponse:
    return render(request, "404.html", {"unknown_host": True}, status=404)


class SecurityHeadersMiddleware:
    """The outermost middleware: security headers on every response, whatever answered.

    Content-Security-Policy without inline scripts, no framing, no sniffing,
    same-origin referrers, the Cross-Origin-Opener-Policy, HSTS on every HTTPS
    response (when ``SECURE_HSTS_SECONDS`` is set, as in production); and
    ``Cache-Control: no-store`` on everything except static files, so nothing a
    signed-in user sees is stored on their device; the one exception is a response
    a view marks ``private_cache_allowed`` (a photo's thumbnail: ``private,
    max-age`` for that user's browser only, never a shared cache). Django's SecurityMiddleware sets
    the same COOP and HSTS on what passes through it; this covers the responses that
    answer before it (``/healthz``, a host outside ``ALLOWED_HOSTS``).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.static_prefix = settings.STATIC_URL
        self.opener_policy = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        self.hsts = None
        if settings.SECURE_HSTS_SECONDS:
            self.hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                self.hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                self.hsts += "; preload"

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        response["X-Frame-Options"] = "DENY"
        response["X-Content-Type-Options"] = "nosniff"
        response.setdefault("Referrer-Policy", "same-origin")
        if self.opener_policy:
            response.setdefault("Cross-Origin-Opener-Policy", self.opener_policy)
        if self.hsts and request.is_secure():
            response.setdefault("Strict-Transport-Security", self.hsts)
        if getattr(response, "private_cache_allowed", False):
            patch_cache_control(response, private=True)
        elif not request.path.startswith(self.static_prefix):
            patch_cache_control(response, no_store=True, private=True)
        return response


class DisallowedHostMiddleware:
    """A host outside ``ALLOWED_HOSTS`` gets the 404 page here, before Django's
    SecurityMiddleware: never redirected to HTTPS on a host we do not serve, never
    Django's bare 400 (SecurityMiddleware reads the host to build its redirect).
    ``/healthz`` answers before this, on any host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.validated_host = request.get_host()  # for PartnershipMiddleware: validated once
        except DisallowedHost:
            connection.set_schema_to_public()
            return _not_found(request)
        return self.get_response(request)
