from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence: dated uploads per batch"

    def ready(self) -> None:
        from evidence.sentences import timeline_sentences_register

        timeline_sentences_register()
        from evidence.inbox import waiting_on as inbox_source
        from portal.dashboard import waiting_register

        waiting_register(inbox_source)
        from evidence.pages import batch_evidence_context
        from evidence.pins import PIN_KINDS
        from evidence.services import evidence_verify
        from portal.integrity import integrity_check_register
        from portal.pages import page_context_register
        from portal.registries import pin_kind_register

        for kind in PIN_KINDS:
            pin_kind_register(kind)
        page_context_register("batch", batch_evidence_context)
        integrity_check_register(
            "evidence-files", "stored evidence files against their rows", evidence_verify
        )
        from evidence.records import SEALS
        from portal.integrity import records_register

        records_register("evidence", "evidence records against their events", SEALS)
