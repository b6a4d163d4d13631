"""One state per batch, shown the same everywhere: the demo's B1, whose exceptions are accepted
and whose approval lets it ship, has its serials in the registry too."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orders.models import Batch
from portal.models import User
from serials.selectors import batch_serial_status


def test_the_demo_s_approved_batch_has_its_serials_accepted(db: None) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    batch = Batch.objects.get(code="B1", order__number="2026-0141")
    assert batch.approvals.exists()
    assert batch_serial_status(batch) == "accepted"
    client = Client()
    client.force_login(User.objects.get(username="buyer"))
    exceptions = client.get(reverse("batch-exceptions", args=[batch.pk])).content.decode()
    assert "Accept the batch&#x27;s serials" not in exceptions
    assert "Accept the batch's serials" not in exceptions
    found = client.get(reverse("serial-lookup"), {"serial": "VLT000100352"}).content.decode()
    assert "pending acceptance" not in found
    assert "accepted into the registry" in found
