from celery import shared_task

from dossier.services import dossier_export_build, dossier_exports_requeue_stuck


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_dossier_export(export_id: int) -> None:
    """Thin and idempotent: the service claims the export and writes its result once."""
    dossier_export_build(export_id=export_id)


@shared_task
def requeue_stuck_dossier_exports() -> list[int]:
    """Periodic (celery beat): builds lost with their message or their worker are sent again."""
    return dossier_exports_requeue_stuck()
