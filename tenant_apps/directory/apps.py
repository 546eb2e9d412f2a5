from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tenant_apps.directory"
    label = "directory"
    verbose_name = "Directory: agencies, teams and who belongs to them"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The token authentication's OpenAPI extension registers itself when its module loads.
        from tenant_apps.directory import audit, authentication  # noqa: F401, PLC0415

        audit.register()
