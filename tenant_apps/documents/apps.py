from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tenant_apps.documents"
    label = "documents"
    verbose_name = "Documents and photos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenant_apps.documents import audit

        audit.register()
