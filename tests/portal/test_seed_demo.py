from django.core.management import call_command

from orders.models import Batch, PurchaseOrder
from portal.audit import audit_verify
from portal.models import Organisation, User


def test_it_seeds_the_demo_and_can_run_twice(db: None, capsys: object) -> None:
    call_command("seed_demo", "--password", "s3cret-demo-pw")
    call_command("seed_demo", "--password", "s3cret-demo-pw")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "s3cret-demo-pw" in out
    usernames = {"buyer", "supplier_a", "supplier_b", "inspector", "finance", "service", "admin"}
    assert set(User.objects.values_list("username", flat=True)) == usernames
    assert all(
        User.objects.get(username=name).check_password("s3cret-demo-pw") for name in usernames
    )
    assert Organisation.objects.count() == 4
    assert PurchaseOrder.objects.count() == 3
    assert len(set(PurchaseOrder.objects.values_list("status", flat=True))) == 3
    assert len(set(Batch.objects.values_list("status", flat=True))) >= 2
    assert audit_verify()[1] is None
