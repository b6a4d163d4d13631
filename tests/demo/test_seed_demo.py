import io

from django.core.management import call_command

from approvals.models import Approval, GateRelease
from approvals.selectors import early_shipments
from demo.people import DEMO_PEOPLE
from evidence.models import EvidenceItem, Responsibility, ResponsibilityRole
from evidence.selectors import batch_evidence_summary, freshness_flags
from orders.models import Batch, PurchaseOrder
from portal.integrity import integrity_verify
from portal.models import Organisation, User
from serials.models import SerialPlacement


def test_it_seeds_the_demo_and_can_run_twice(db: None, capsys: object) -> None:
    call_command("seed_demo", "--password", "s3cret-demo-pw")
    call_command("seed_demo", "--password", "s3cret-demo-pw")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "s3cret-demo-pw" in out
    usernames = {"buyer", "supplier_a", "supplier_b", "inspector", "finance", "service", "admin"}
    # Besides the demo's sign-ins, the People page's examples (demo/people.py): invited, active
    # and deactivated people, none of whom signs in with the demo password.
    people = set(DEMO_PEOPLE)
    assert set(User.objects.values_list("username", flat=True)) == usernames | people
    assert all(
        User.objects.get(username=name).check_password("s3cret-demo-pw") for name in usernames
    )
    assert Organisation.objects.count() == 4
    assert PurchaseOrder.objects.count() == 3
    assert len(set(PurchaseOrder.objects.values_list("status", flat=True))) == 3
    assert len(set(Batch.objects.values_list("status", flat=True))) >= 2
    # Each run leaves a checkpoint, and the untouched demo verifies.
    assert "Audit chain sealed: checkpoint cp-000002-" in out
    report = integrity_verify()
    assert report.ok, [str(finding) for finding in report.findings]
    call_command("integrity_verify")


def test_the_demo_story_does_not_contradict_itself(db: None) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    buyer = User.objects.get(username="buyer")
    batch = Batch.objects.get(order__number="2026-0141", code="B1")
    started, finished = batch.production_started_on, batch.production_finished_on

    # Evidence was captured while the batch was being made, and raises no freshness flag.
    items = list(EvidenceItem.objects.filter(batch__order__buyer=buyer.membership.organisation))
    assert items and not freshness_flags(items, buyer)
    assert all(started <= item.capture_date.date() <= finished for item in items)
    # Line 2's QA camera signs its photos: the label photo carries valid content credentials,
    # on no trust list, captured when its EXIF date says.
    signed = [item for item in items if hasattr(item, "provenance") and item.provenance.is_signed]
    assert [item.provenance.signer for item in signed] == ["Line 2 QA camera"]
    assert signed[0].provenance.claimed_at == signed[0].capture_date.replace(
        tzinfo=signed[0].provenance.claimed_at.tzinfo
    )
    # What the buyer requires of the batch is on file before the approval rests on it.
    assert batch_evidence_summary(batch, buyer)["missing_kinds"] == []

    # Units left only once the shipment gate holding them was released.
    assert SerialPlacement.objects.filter(batch=batch, shipped_on__isnull=False).exists()
    assert early_shipments(batches=Batch.objects.all()) == []
    assert GateRelease.objects.filter(gate__batch=batch, gate__kind="shipment_release").exists()

    # Every approval was signed with the whole responsibility map filled in.
    signed = Approval.objects.select_related("signature", "order")
    assert signed.exists()
    for approval in signed:
        named = Responsibility.objects.filter(
            order=approval.order, recorded_at__lte=approval.signature.signed_at
        ).values_list("role", flat=True)
        assert set(named) == set(ResponsibilityRole.values), approval
