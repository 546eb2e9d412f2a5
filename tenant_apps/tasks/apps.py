from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tenant_apps.tasks"
    label = "tasks"
    verbose_name = "Tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenant_apps.tasks import audit

        audit.register()
