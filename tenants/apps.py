from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Partnerships"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tenants.signals import grant_after_migrate

        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="concord-roles-after-migrate")
