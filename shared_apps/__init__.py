"""Apps whose tables live only in the public schema (SHARED_APPS).

Nothing here may import ``tenant_apps``: those tables do not exist in public.
"""
