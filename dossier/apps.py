from django.apps import AppConfig


class DossierConfig(AppConfig):
    name = "dossier"
    verbose_name = "Dispute dossier"

    def ready(self) -> None:
        from dossier.sentences import timeline_sentences_register

        timeline_sentences_register()
        from dossier.models import DossierExport
        from portal.integrity import CheckResult, integrity_check_register
        from portal.storage import stored_files_check

        def dossier_files_check() -> CheckResult:
            done = DossierExport.objects.filter(status=DossierExport.Status.DONE)
            return stored_files_check("dossier-files", done)

        integrity_check_register(
            "dossier-files", "built dossier ZIPs against their recorded hashes", dossier_files_check
        )
