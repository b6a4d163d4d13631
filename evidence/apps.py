from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence: dated uploads per batch"

    def ready(self) -> None:
        from evidence.pins import PIN_KINDS
        from portal.registries import pin_kind_register

        for kind in PIN_KINDS:
            pin_kind_register(kind)
