from django.apps import AppConfig


class SerialsConfig(AppConfig):
    name = "serials"
    verbose_name = "Serial lists and validation"

    def ready(self) -> None:
        from portal.registries import pin_kind_register
        from serials.pins import PIN_KINDS

        for kind in PIN_KINDS:
            pin_kind_register(kind)
