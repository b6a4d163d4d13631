from django.apps import AppConfig


class SerialsConfig(AppConfig):
    name = "serials"
    verbose_name = "Serial lists and validation"

    def ready(self) -> None:
        from serials.sentences import timeline_sentences_register

        timeline_sentences_register()
        from serials.life_views import life_sentences_register

        life_sentences_register()
        from portal.dashboard import waiting_register
        from serials.inbox import waiting_on as inbox_source

        waiting_register(inbox_source)
        from portal.pages import page_context_register
        from portal.registries import pin_kind_register
        from serials.pages import batch_serials_context, order_serials_context
        from serials.pins import PIN_KINDS

        for kind in PIN_KINDS:
            pin_kind_register(kind)
        page_context_register("order", order_serials_context)
        page_context_register("batch", batch_serials_context)
        from portal.pages import stage_register
        from serials.stages import serial_stages

        stage_register(10, serial_stages)

        from portal.integrity import records_register
        from serials.records import SEALS

        records_register("serials", "serial records against their events", SEALS)
        from portal.integrity import integrity_check_register
        from serials.records import serial_files_check

        integrity_check_register(
            "serial-files",
            "stored serial lists, allocated codes and answers' attachments against their rows",
            serial_files_check,
        )
