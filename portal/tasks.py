from celery import shared_task

from portal.notifications import notifications_send


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notifications(event_id: int) -> int:
    """Thin and idempotent: whoever already got this event's email is skipped."""
    return len(notifications_send(event_id=event_id))
