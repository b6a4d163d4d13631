from django.core.management.base import BaseCommand, CommandParser

from evidence.services import evidence_provenance_fill


class Command(BaseCommand):
    help = (
        "Read the content credentials and perceptual hash of evidence stored before they were "
        "read (images and PDFs without a provenance row). Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="read at most this many")

    def handle(self, *args: object, limit: int | None = None, **options: object) -> None:
        count = evidence_provenance_fill(limit=limit)
        self.stdout.write(f"provenance read for {count} evidence item(s)")
