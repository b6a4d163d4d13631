from django.apps import AppConfig


class LookupConfig(AppConfig):
    name = "lookup"
    verbose_name = "Customer-service lookup"

    def ready(self) -> None:
        from lookup.inbox import lookup_box
        from portal.dashboard import context_register

        context_register(lookup_box)
