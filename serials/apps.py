from django.apps import AppConfig


class SerialsConfig(AppConfig):
    name = "serials"
    verbose_name = "Serial lists and validation"
