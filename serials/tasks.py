from celery import shared_task

from serials.services import serial_list_validate, serial_lists_requeue_stuck


@shared_task(acks_late=True, reject_on_worker_lost=True)
def validate_serial_list(serial_list_id: int) -> None:
    """Thin and idempotent: the service claims the job and writes its result once."""
    serial_list_validate(serial_list_id=serial_list_id)


@shared_task
def requeue_stuck_serial_lists() -> list[int]:
    """Periodic (celery beat): jobs lost with their message or their worker are sent again."""
    return serial_lists_requeue_stuck()
