"""Load a small, believable demo: one buyer, two suppliers, an inspection firm, their people and
three orders in different states. Safe to run again: existing records are kept, passwords reset."""

from __future__ import annotations

import datetime

from django.core import mail
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from approvals.models import Gate
from approvals.services import gate_create
from demo.conditions_story import demo_conditions
from demo.inbox_story import demo_inbox_work
from demo.life_story import demo_serial_life
from demo.lookup_story import demo_lookups
from demo.people import demo_people
from demo.samples_story import demo_approved_sample
from demo.story import (
    demo_exceptions,
    demo_finance,
    demo_inspection,
    demo_story,
    shipment_gate_money,
)
from orders import services
from orders.models import Batch, PurchaseOrder
from portal.anchors import checkpoint_seal
from portal.models import Membership, Organisation, Role, User
from serials.models import AllocatedRange
from serials.services import allocated_range_set, numbering_rule_save

DEFAULT_PASSWORD = "demo-portal-2026"

ORGANISATIONS = {
    "buyer": ("Northwind Devices Ltd", Organisation.Kind.BUYER, "United Kingdom"),
    "supplier_a": ("Brightline Electronics Co.", Organisation.Kind.SUPPLIER, "China"),
    "supplier_b": ("Harbour Tools Manufacturing", Organisation.Kind.SUPPLIER, "Vietnam"),
    "inspection": ("Verity Inspection Services", Organisation.Kind.INSPECTION_FIRM, "China"),
}

# username: (first name, last name, organisation key, role)
PEOPLE = {
    "buyer": ("Amelia", "Hart", "buyer", Role.BUYER),
    "finance": ("Rahul", "Mehta", "buyer", Role.FINANCE),
    "service": ("Grace", "Okafor", "buyer", Role.CUSTOMER_SERVICE),
    "admin": ("Tom", "Lindqvist", "buyer", Role.ADMIN),
    "supplier_a": ("Wei", "Zhang", "supplier_a", Role.SUPPLIER),
    "supplier_b": ("Linh", "Nguyen", "supplier_b", Role.SUPPLIER),
    "inspector": ("Marco", "Rossi", "inspection", Role.INSPECTOR),
}


class Command(BaseCommand):
    help = "Create (or refresh) the demo companies, users and orders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="password for every demo user"
        )

    def handle(self, *args: object, password: str, **options: object) -> None:
        # The story sends the notifications real use would; kept in memory, not printed, so
        # the sign-in list below is the last thing on the screen.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            with transaction.atomic():
                organisations = self._load(password)
            sent = len(mail.outbox)
        # The story's events sealed outside the database (portal.anchors): a first checkpoint.
        checkpoint = checkpoint_seal()
        self.stdout.write(
            f"Audit chain sealed: checkpoint {checkpoint.name} ({checkpoint.head.events} events)"
            + (
                f"; the time-stamping authority failed: {checkpoint.tsa_error}"
                if checkpoint.tsa_error
                else ""
            )
        )
        self.stdout.write(
            self.style.SUCCESS("Demo ready. Sign in at http://localhost:8000/ as:")
            + f" ({sent} notification emails of the story were kept, not printed)"
        )
        for username, (_, _, org_key, role) in PEOPLE.items():
            self.stdout.write(
                f"  {username:<11} {Role(role).label:<17} {organisations[org_key].name:<30} "
                f"password: {password}"
            )

    def _load(self, password: str) -> dict[str, Organisation]:
        organisations = {
            key: Organisation.objects.get_or_create(
                name=name, defaults={"kind": kind, "country": country}
            )[0]
            for key, (name, kind, country) in ORGANISATIONS.items()
        }
        users = {}
        for username, (first, last, org_key, role) in PEOPLE.items():
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            user.set_password(password)
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.save()
            Membership.objects.update_or_create(
                user=user, defaults={"organisation": organisations[org_key], "role": role}
            )
            users[username] = user
        self._orders(users["buyer"], organisations)
        self._numbering(users["buyer"])
        story_order = PurchaseOrder.objects.get(buyer=organisations["buyer"], number="2026-0141")
        demo_approved_sample(order=story_order, users=users)
        demo_story(order=story_order, users=users, password=password)
        demo_inspection(order=story_order, users=users)
        demo_people(admin=users["admin"], organisations=organisations, password=password)
        demo_finance(users=users)
        demo_exceptions(order=story_order, users=users)
        demo_inbox_work(order=story_order, users=users)
        demo_conditions(order=story_order, users=users, password=password)
        demo_serial_life(order=story_order, users=users)
        demo_lookups(users=users)
        return organisations

    def _numbering(self, buyer: User) -> None:
        numbering_rule_save(
            user=buyer,
            product="05012345678900",
            prefix="VLT",
            width=9,
            check_digit="none",
            note="Printed on the charger's rating label and the gift box.",
            warranty_months=24,
            company_prefix_length=7,
        )
        order = PurchaseOrder.objects.get(buyer=buyer.membership.organisation, number="2026-0141")
        for batch in order.batches.all():
            if not Gate.objects.filter(batch=batch, kind=Gate.Kind.SHIPMENT_RELEASE).exists():
                gate_create(
                    user=buyer,
                    order=order,
                    batch=batch,
                    kind=Gate.Kind.SHIPMENT_RELEASE,
                    **shipment_gate_money(batch),
                )
        if not AllocatedRange.objects.filter(order=order).exists():
            allocated_range_set(
                user=buyer, order=order, first_serial="VLT000100001", last_serial="VLT000112000"
            )

    def _orders(self, buyer: User, organisations: dict[str, Organisation]) -> None:
        today = timezone.localdate()
        day = datetime.timedelta(days=1)
        if not PurchaseOrder.objects.filter(
            buyer=organisations["buyer"], number="2026-0141"
        ).exists():
            order = services.order_create(
                user=buyer,
                supplier=organisations["supplier_a"],
                number="2026-0141",
                product_name="Volta 65W USB-C charger",
                gtin="05012345678900",
                quantity=12_000,
                customer_promise="Each charger's serial registers for a 24-month warranty and "
                "is listed on the marketplace's anti-counterfeit programme.",
                order_date=today - 60 * day,
                required_by=today + 20 * day,
                status=PurchaseOrder.Status.ISSUED,
                inspection_firms=[organisations["inspection"]],
            )
            first = services.batch_create(
                order=order, user=buyer, code="B1", planned_quantity=6_000
            )
            services.batch_create(order=order, user=buyer, code="B2", planned_quantity=6_000)
            services.order_update(
                order=order, user=buyer, status=PurchaseOrder.Status.IN_PRODUCTION
            )
            supplier = User.objects.get(username="supplier_a")
            services.batch_update(
                batch=first,
                user=supplier,
                declared_first_serial="VLT000100001",
                declared_last_serial="VLT000106000",
                production_started_on=today - 30 * day,
                production_finished_on=today - 12 * day,
                status=Batch.Status.PRODUCED,
            )
        if not PurchaseOrder.objects.filter(
            buyer=organisations["buyer"], number="2026-0152"
        ).exists():
            order = services.order_create(
                user=buyer,
                supplier=organisations["supplier_b"],
                number="2026-0152",
                product_name="Torque 18V cordless drill",
                sku="TQ-18V-DRL-EU",
                quantity=3_000,
                customer_promise="Serials tie each drill to its battery pack and its 3-year "
                "warranty registration.",
                order_date=today - 25 * day,
                required_by=today + 45 * day,
                status=PurchaseOrder.Status.ISSUED,
            )
            services.batch_create(order=order, user=buyer, code="L01", planned_quantity=1_500)
        if not PurchaseOrder.objects.filter(
            buyer=organisations["buyer"], number="2026-0160"
        ).exists():
            services.order_create(
                user=buyer,
                supplier=organisations["supplier_a"],
                number="2026-0160",
                product_name="Volta 30W travel charger",
                gtin="05012345678917",
                quantity=8_000,
                order_date=today - 2 * day,
                required_by=today + 75 * day,
            )
