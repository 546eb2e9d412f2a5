from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "tenant_apps.directory"
    label = "directory"
    verbose_name = "Directory: agencies, teams and who belongs to them"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenant_apps.directory import audit

        audit.register()
