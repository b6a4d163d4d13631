from celery import shared_task

from evidence.services import evidence_process


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_evidence(item_id: int) -> None:
    """Thin and idempotent: capture date and thumbnail, written once."""
    evidence_process(item_id=item_id)
