from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals, gates and payments"

    def ready(self) -> None:
        from approvals.sentences import timeline_sentences_register

        timeline_sentences_register()
        from approvals.inbox import waiting_on as inbox_source
        from portal.dashboard import waiting_register

        waiting_register(inbox_source)
        from approvals.services import approvals_on_new_version
        from portal.registries import pin_versions_subscribe

        pin_versions_subscribe(approvals_on_new_version)

        from approvals.views import batch_early_shipments_panel
        from portal.pages import batch_panel_register

        batch_panel_register(batch_early_shipments_panel)

        from approvals.stages import approval_headline, approval_stages
        from portal.pages import headline_register, stage_register

        stage_register(30, approval_stages)
        headline_register(approval_headline)

        from approvals.records import SEALS, signatures_check
        from portal.integrity import integrity_check_register, records_register

        records_register("approvals", "approval records against their events", SEALS)
        integrity_check_register(
            "approvals-signatures",
            "signatures against their manifests, pins against what they name",
            signatures_check,
        )
        from approvals.records import payment_documents_check

        integrity_check_register(
            "payment-documents",
            "stored payment documents against their rows",
            payment_documents_check,
        )
