"""Every file of the hostile corpus (tests/hostile/corpus.py) is refused where it is sent: a 400
naming the file and what is wrong, no row, and no stored file left behind. The serial lists go
through a real worker, which lives through all of them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals.models import Payment
from evidence.models import EvidenceItem
from serials import services
from serials.models import AllocatedCodeList, SerialList
from tests.conftest import HANG_GUARD_SECONDS, Cast, WorkerProcess
from tests.hostile.corpus import CASES, Case


def _stored() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def _refused(case: Case, message: str) -> None:
    assert case.name.lower() in message.lower() or os.path.basename(case.name) in message, message
    assert case.says.lower() in message.lower(), message
    assert "Traceback" not in message


DOCUMENT_CASES = [case for case in CASES if case.targets & {"evidence", "payment"}]


def test_the_corpus_holds_at_least_a_hundred_files() -> None:
    assert len(CASES) >= 100 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", DOCUMENT_CASES, ids=[case.name for case in DOCUMENT_CASES])
def test_a_hostile_document_is_refused_and_leaves_nothing(
    cast_with_lists: Cast, case: Case
) -> None:
    cast = cast_with_lists
    data = case.make()
    before = _stored()
    if "evidence" in case.targets:
        response = cast.api("supplier_a").post(
            reverse("api-batch-evidence", args=[cast.batches["own"].pk]),
            {"file": SimpleUploadedFile(case.name, data), "kind": "other"},
        )
        assert response.status_code == 400, (response.status_code, response.content[:300])
        _refused(case, str(response.json()))
        assert not EvidenceItem.objects.filter(original_name=case.name).exists()
    if "payment" in case.targets:
        payments = Payment.objects.count()
        response = cast.api("finance").post(
            reverse("api-gate-payments", args=[cast.gates["own"].pk]),
            {
                "kind": "rework_charge",
                "amount": "250.00",
                "currency": "USD",
                "payee": "Quick Relabel Ltd",
                "paid_on": "2026-11-20",
                "document": SimpleUploadedFile(case.name, data),
            },
            format="multipart",
        )
        assert response.status_code == 400, (response.status_code, response.content[:300])
        _refused(case, str(response.json()))
        assert Payment.objects.count() == payments
    assert _stored() == before


CODE_CASES = [case for case in CASES if "codes" in case.targets]


@pytest.mark.parametrize("case", CODE_CASES, ids=[case.name for case in CODE_CASES])
def test_a_hostile_code_list_is_refused_in_the_request(cast: Cast, case: Case) -> None:
    """Allocated codes are read in the request: the web process must live and answer."""
    services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    before = _stored()
    with pytest.raises(ValidationError) as refused:
        services.allocated_code_list_upload(
            user=cast.users["buyer"],
            order=cast.orders["own"],
            uploaded_file=SimpleUploadedFile(case.name, case.make()),
        )
    _refused(case, str(refused.value))
    assert not AllocatedCodeList.objects.exists()
    assert _stored() == before


LIST_CASES = [case for case in CASES if "serial_list" in case.targets]


@pytest.mark.worker
def test_a_real_worker_lives_through_every_hostile_list(
    transactional_db: None, worker_factory: type[WorkerProcess], cast: Cast, rule: object
) -> None:
    """Each list is refused at upload (400) or taken by the worker and failed with a message
    naming the file; then an ordinary list is still checked by the same worker."""
    worker = worker_factory().start()
    api = cast.api("supplier_a")
    url = reverse("api-batch-serial-lists", args=[cast.batches["own"].pk])
    queued: dict[int, Case] = {}
    for case in LIST_CASES:
        response = api.post(url, {"file": SimpleUploadedFile(case.name, case.make())})
        if response.status_code == 400:
            _refused(case, str(response.json()))
            continue
        assert response.status_code == 202, (case.name, response.status_code, response.content)
        queued[response.json()["id"]] = case
    ordinary = api.post(url, {"file": SimpleUploadedFile("ok.csv", b"serial\nVLT000001\n")})
    assert ordinary.status_code == 202
    deadline = time.monotonic() + HANG_GUARD_SECONDS * 3
    ids = [*queued, ordinary.json()["id"]]
    while SerialList.objects.filter(pk__in=ids, status__in=("queued", "running")).exists():
        assert time.monotonic() < deadline, "the worker did not finish the hostile lists"
        time.sleep(0.2)
    for serial_list in SerialList.objects.filter(pk__in=queued):
        case = queued[serial_list.pk]
        assert serial_list.status == "failed", (case.name, serial_list.status)
        _refused(case, serial_list.error)
        assert serial_list.attempts == 1, (case.name, "the worker died on it")
    assert SerialList.objects.get(pk=ordinary.json()["id"]).status == "done"
    assert worker.process is not None and worker.process.poll() is None, "the worker died"
