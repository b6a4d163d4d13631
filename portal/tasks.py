import logging

from celery import shared_task

from portal import anchors, integrity
from portal.audit import notification_recorded
from portal.notifications import notifications_send

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notifications(event_id: int) -> int:
    """Thin and idempotent: whoever already got this event's email is skipped."""
    sent = notifications_send(event_id=event_id, record=notification_recorded)
    return len(sent)


@shared_task(acks_late=True)
def integrity_checkpoint() -> str:
    """Beat, every 10 minutes: seal the audit chain's head outside the database."""
    checkpoint = anchors.checkpoint_seal()
    if checkpoint.tsa_error:
        logger.error("Checkpoint %s: the TSA failed: %s", checkpoint.name, checkpoint.tsa_error)
    return checkpoint.name


@shared_task(acks_late=True)
def integrity_verify() -> int:
    """Beat, nightly: the whole verification, logged beside the anchor file."""
    report = integrity.integrity_verify()
    integrity.integrity_run_record(report, source="beat")
    for finding in report.findings:
        logger.error("Integrity: %s", finding)
    return len(report.findings)


@shared_task(acks_late=True)
def integrity_verify_asked(user_id: int) -> int:
    """An admin's "Verify now" (the integrity page): the whole verification, logged beside the
    anchor file like the nightly run, naming who asked; the page polls the log for it."""
    from portal.models import User

    asker = User.objects.filter(pk=user_id).values_list("username", flat=True).first()
    report = integrity.integrity_verify()
    integrity.integrity_run_record(report, source=f"page, asked by {asker or 'a removed user'}")
    for finding in report.findings:
        logger.error("Integrity: %s", finding)
    return len(report.findings)
