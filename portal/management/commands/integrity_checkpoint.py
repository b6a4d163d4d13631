from django.core.management.base import BaseCommand, CommandError

from portal.anchors import CheckpointError, anchor_path, checkpoint_seal


class Command(BaseCommand):
    help = (
        "Seal the audit chain's head (event count, last id and hash, UTC time) as one HMAC'd "
        "line of the append-only anchor file, time-stamped by TSA_URL when it is set."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            checkpoint = checkpoint_seal()
        except CheckpointError as error:
            raise CommandError(str(error)) from error
        head = checkpoint.head
        self.stdout.write(
            f"Checkpoint {checkpoint.name}: {head.events} events, last #{head.last_id} "
            f"{head.last_hash[:16]}…, in {anchor_path()}"
            + (f"; time-stamp token {checkpoint.token}" if checkpoint.token else "")
        )
        if checkpoint.tsa_error:
            raise CommandError(
                f"Sealed in the anchor file, but the time-stamping authority failed: "
                f"{checkpoint.tsa_error}"
            )
