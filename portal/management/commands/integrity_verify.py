from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from portal.integrity import integrity_parts, integrity_run_record, integrity_verify


class Command(BaseCommand):
    help = (
        "Verify the audit chain (HMACs and links), the checkpoints outside the database and "
        "their time-stamps, and every registered part (stored evidence files). Prints each "
        "finding on its own line (table, id, what differs) and exits 1 if there is any; each "
        "run is logged beside the anchor file."
    )
    # The parts this command runs; an alias (audit_verify, evidence_verify) names fewer.
    parts: tuple[str, ...] = ()

    def add_arguments(self, parser: ArgumentParser) -> None:
        if not self.parts:
            parser.add_argument(
                "--part",
                action="append",
                choices=[part.name for part in integrity_parts()],
                help="run only this part (repeatable); all by default",
            )

    def handle(self, *args: object, **options: Any) -> None:
        parts = self.parts or options.get("part") or None
        report = integrity_verify(parts)
        log = integrity_run_record(report, source=f"command {self._name()}")
        for result in report.results:
            for note in result.notes:
                self.stdout.write(f"{result.part}: {note}")
        for finding in report.findings:
            self.stdout.write(str(finding))
        checked = ", ".join(f"{result.part} {result.checked}" for result in report.results)
        if not report.ok:
            count = len(report.findings)
            raise CommandError(
                f"{count} integrity finding{pluralize(count)} (checked: {checked}); "
                f"logged in {log}."
            )
        self.stdout.write(self.style.SUCCESS(f"Integrity holds (checked: {checked})."))

    def _name(self) -> str:
        return self.__module__.rsplit(".", 1)[-1]
