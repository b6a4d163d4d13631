from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dossier.build import dossier_filename, dossier_write
from orders.models import PurchaseOrder
from portal.ids import parse_id


class Command(BaseCommand):
    help = (
        "Write an order's dispute dossier (approval record PDF, serial reports, evidence files, "
        "statements, payments, timeline and a SHA-256 manifest) to a ZIP file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order", help="the PO number (or the order's id)")
        parser.add_argument(
            "--buyer", help="the buyer organisation's name, when two buyers share a PO number"
        )
        parser.add_argument(
            "--output", "-o", help="where to write the ZIP (default: dossier-<PO number>.zip)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        order = self._order(options["order"], options["buyer"])
        output = Path(options["output"] or dossier_filename(order))
        if output.exists():
            raise CommandError(f"{output} exists already; nothing was written. Choose --output.")
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("xb") as target:
                entries = dossier_write(order=order, target=target)
            partial.rename(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        broken = [e for e in entries if e.intact is False or not e.sha256]
        for entry in broken:
            self.stderr.write(f"warning: {entry.path} does not match the hash recorded at upload")
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}: {len(entries)} files, manifest.json, SHA256SUMS.")
        )

    def _order(self, reference: str, buyer: str | None) -> PurchaseOrder:
        orders = PurchaseOrder.objects.select_related("buyer", "supplier")
        if buyer:
            orders = orders.filter(buyer__name__iexact=buyer)
        matches = list(orders.filter(number=reference))
        if not matches and (pk := parse_id(reference)) is not None:
            matches = list(orders.filter(pk=pk))
        if not matches:
            raise CommandError(f"No order with PO number or id “{reference}”.")
        if len(matches) > 1:
            names = ", ".join(sorted(str(o.buyer) for o in matches))
            raise CommandError(f"PO {reference} exists for several buyers ({names}); add --buyer.")
        return matches[0]
