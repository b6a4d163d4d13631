"""What the inspector must check is the buyer's instruction to its inspectors: hidden from the
supplier like the samples are, since a check known in advance can be prepared for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from approvals import services as approvals
from approvals.models import Approval
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request

SECRET = "Open carton CTN-082 and read the third label from the top."


@pytest.fixture
def approval(cast: Cast) -> Approval:
    from evidence import services as evidence_services
    from tests.evidence.conftest import jpeg

    batch = cast.batches["own"]
    photo = evidence_services.evidence_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        kind="photo",
        uploaded_file=jpeg("label.jpg", captured="2026:11:02 10:00:00", colour="teal"),
    )
    return approvals.approval_sign(
        promises=["identity", "payment"],
        user=cast.users["buyer"],
        password=PASSWORD,
        request=signing_request(),
        factor=TEST_FACTOR,
        order=batch.order,
        batch=batch,
        decision="rejected",
        sentence=f"Batch {batch.code} may not ship yet.",
        keep_unchanged="The label layout.",
        inspector_checks=SECRET,
        pins=[("evidence", photo.pk)],
    )


@pytest.mark.parametrize(
    "role, sees", [("supplier_a", False), ("buyer", True), ("inspector", True), ("service", True)]
)
def test_it_shows_the_inspector_s_instructions_only_buyer_side(
    cast: Cast, approval: Approval, role: str, sees: bool
) -> None:
    api = cast.api(role)
    detail = api.get(reverse("api-approval-detail", args=[approval.pk]))
    listed = api.get(reverse("api-approval-list"), {"order": approval.order_id})
    pages = [
        cast.client(role).get(reverse(name, args=[pk]))
        for name, pk in (
            ("approval-detail", approval.pk),
            ("batch-approvals", approval.batch_id),
            ("order-approvals", approval.order_id),
        )
    ]
    for response in [detail, listed, *pages]:
        assert response.status_code == 200
        if not sees:
            assert SECRET not in response.content.decode(), response.request["PATH_INFO"]
    for response in (detail, listed, pages[0]):  # the approval's own page and API show them
        assert (SECRET in response.content.decode()) == sees, response.request["PATH_INFO"]
    assert ("inspector_checks" in detail.json()) == sees
    # What the supplier must keep unchanged is meant for the supplier.
    assert "The label layout." in detail.content.decode()
