from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "tenant_apps.casework"
    label = "casework"
    verbose_name = "Casework"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenant_apps.casework import audit, documents

        documents.register()
        audit.register()
