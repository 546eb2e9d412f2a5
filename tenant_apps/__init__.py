"""Apps whose tables live in every partnership schema (TENANT_APPS)."""
