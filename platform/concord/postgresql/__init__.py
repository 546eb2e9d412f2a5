"""PostgreSQL as the web tier meets it: the backend under django-tenants (``base``, named by
``settings.ORIGINAL_BACKEND``) and what a database error means for a response (``faults``)."""
