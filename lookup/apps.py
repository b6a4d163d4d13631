from django.apps import AppConfig


class LookupConfig(AppConfig):
    name = "lookup"
    verbose_name = "Customer-service lookup"
