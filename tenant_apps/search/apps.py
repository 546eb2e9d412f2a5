from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "tenant_apps.search"
    label = "search"
    verbose_name = "Search"
