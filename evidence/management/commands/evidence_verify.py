from django.core.management.base import BaseCommand, CommandError

from evidence.services import evidence_verify


class Command(BaseCommand):
    help = "Re-hash every stored evidence file and name each one whose bytes changed."

    def handle(self, *args: object, **options: object) -> None:
        checked, problems = evidence_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} of {checked} evidence files do not match.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} evidence files match their hashes."))
