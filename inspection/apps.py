from django.apps import AppConfig


class InspectionConfig(AppConfig):
    name = "inspection"
    verbose_name = "Inspection sampling, label checks and carton reconciliation"

    def ready(self) -> None:
        from inspection.sentences import timeline_sentences_register

        timeline_sentences_register()
        from inspection.pins import PIN_KINDS
        from portal.registries import pin_kind_register

        for kind in PIN_KINDS:
            pin_kind_register(kind)

        from inspection.records import SEALS
        from portal.integrity import records_register

        records_register("inspection", "inspection records against their events", SEALS)

        from inspection.stages import inspection_stages
        from portal.pages import stage_register

        stage_register(50, inspection_stages)

        from inspection.dashboard import waiting_on
        from portal.dashboard import waiting_register

        waiting_register(waiting_on)
