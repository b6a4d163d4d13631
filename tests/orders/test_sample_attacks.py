"""Attacks on the approved sample (issue 15): races between a new version and a signing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from approvals import services as approvals
from orders import samples as samples_module
from orders.models import ApprovedSample
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request
from tests.orders.test_approved_samples import _new_version, _product_sample

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks exist on PostgreSQL only"
)


def _sign_order(cast: Cast, sample: ApprovedSample, based_on: Any = None) -> Any:
    order = cast.orders["own"]
    return approvals.approval_sign(
        user=cast.users["buyer"],
        password=PASSWORD,
        request=signing_request(),
        factor=TEST_FACTOR,
        order=order,
        batch=None,
        decision="accepted",
        sentence="PO-OWN is the approved product.",
        pins=[("sample", sample.pk)],
        promises=["identity"],
        unlocks=[],
        based_on=based_on,
    )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_new_version_racing_an_order_signing_does_not_deadlock(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order's approval already pins the sample; a new version of the sample and a second
    signing on the order run at once. The new version used to lock the sample, then the order;
    the signing the order, then the sample: PostgreSQL killed one of them as a deadlock."""
    sample = _product_sample(cast)
    first = _sign_order(cast, sample)
    sample_locked = threading.Event()
    checked = samples_module._layout_checked

    def slow_layout(values: dict[str, Any]) -> dict[str, Any]:
        # Runs after the new version locked the sample row: let the signer take the order.
        sample_locked.set()
        time.sleep(1.5)
        return checked(values)

    monkeypatch.setattr(samples_module, "_layout_checked", slow_layout)
    outcomes: dict[str, str] = {}

    def version() -> None:
        try:
            _new_version(cast, sample)
            outcomes["version"] = "done"
        except Exception as error:  # noqa: BLE001 - the outcome is the assertion
            outcomes["version"] = repr(error)
        finally:
            connection.close()

    def sign() -> None:
        try:
            sample_locked.wait(10)
            _sign_order(cast, sample, based_on=first)
            outcomes["sign"] = "done"
        except ValidationError as error:
            outcomes["sign"] = "refused" if "newer version" in str(error) else repr(error)
        except Exception as error:  # noqa: BLE001
            outcomes["sign"] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=version), threading.Thread(target=sign)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.get("version") == "done", outcomes
    assert outcomes.get("sign") in ("done", "refused"), outcomes
    assert ApprovedSample.objects.filter(previous=sample).count() == 1
