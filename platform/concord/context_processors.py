def site(request):
    """The partnership (or the platform) whose pages these are, for the header."""
    tenant = getattr(request, "tenant", None)
    return {
        "partnership_name": getattr(tenant, "name", "Concord"),
        "is_public_site": getattr(tenant, "schema_name", "public") == "public",
    }
