from django.core.management.base import BaseCommand, CommandError

from portal.audit import audit_verify


class Command(BaseCommand):
    help = "Walk the audit log's hash chain and name the first broken link."

    def handle(self, *args: object, **options: object) -> None:
        checked, broken = audit_verify()
        if broken:
            raise CommandError(f"Chain broken at {broken} ({checked} events before it are intact).")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} events verified."))
