"""The cast every test can use: a buyer with its staff, two suppliers, an inspection firm,
another buyer, a person with no organisation — and orders that some of them may see."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.factors import command_factor
from accounts.models import ApiToken
from orders import services
from orders.models import Batch, PurchaseOrder
from portal.models import Membership, Organisation, Role, User
from portal.roles import needs_second_factor
from serials.models import NumberingRule
from tests.loud_templates import loud_templates  # noqa: F401  (an autouse fixture)

ROOT = Path(__file__).resolve().parent.parent


def _own_broker_per_test_process() -> None:
    """Under pytest-xdist each test process has its own test database, so it needs its own Redis
    database too: a worker started by one process must never take a job another process sent
    (its id would name another row, or none). The Celery workers a test starts inherit it."""
    from django.conf import settings

    process = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not process.startswith("gw") or not settings.CELERY_BROKER_URL:
        return
    base, _, number = settings.CELERY_BROKER_URL.rpartition("/")
    url = f"{base}/{(int(number or 0) - 1 - int(process[2:])) % 16}"
    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = url
    from portal.celery import app

    app.conf.broker_url = url


_own_broker_per_test_process()


@pytest.fixture(autouse=True)
def _english_and_utc_between_tests() -> Iterator[None]:
    """A request in Chinese (Django's LocaleMiddleware leaves its language on the thread) must
    not make the next test's messages Chinese."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


def _flush_between_tests_past_the_truncate_triggers() -> None:
    """A test that commits (``transactional_db``) is cleaned up by ``flush``, which TRUNCATEs
    every table; append-only tables refuse TRUNCATE (``portal.immutability``). The test database
    is emptied past those triggers, by name, and only by ``flush``: anything else that
    truncates them is refused as in production."""
    import pgtrigger
    from django.apps import apps
    from django.core.management.commands import flush

    from portal.immutability import NO_TRUNCATE

    uris = [
        f"{model._meta.label}:{trigger.name}"
        for model in apps.get_models()
        for trigger in getattr(model._meta, "triggers", [])
        if trigger.name.endswith(NO_TRUNCATE)
    ]
    handle = flush.Command.handle

    def handle_past_triggers(self: flush.Command, *args: Any, **options: Any) -> None:
        with pgtrigger.ignore(*uris):
            handle(self, *args, **options)

    flush.Command.handle = handle_past_triggers  # type: ignore[method-assign]


_flush_between_tests_past_the_truncate_triggers()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that start Celery workers or browsers run one after another in one process: they
    # are the slow, waiting kind, and two at once would only compete for the same two cores.
    for item in items:
        if (
            item.get_closest_marker("worker")
            or item.get_closest_marker("browser")
            or ("worker_factory" in getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.xdist_group("broker"))


# Waits on real processes end on an event, never on a race against the clock; this bound only
# turns a hang into a failure, and is far beyond what a loaded machine needs.
HANG_GUARD_SECONDS = int(os.environ.get("HANG_GUARD_SECONDS", "600"))
PASSWORD = "correct-horse-battery-staple"

# username: (organisation key, role); "outsider" has no membership at all.
PEOPLE = {
    "buyer": ("buyer", Role.BUYER),
    "finance": ("buyer", Role.FINANCE),
    "service": ("buyer", Role.CUSTOMER_SERVICE),
    "admin": ("buyer", Role.ADMIN),
    "supplier_a": ("supplier_a", Role.SUPPLIER),
    "supplier_b": ("supplier_b", Role.SUPPLIER),
    "inspector": ("inspection", Role.INSPECTOR),
    "other_buyer": ("other_buyer", Role.BUYER),
    "outsider": (None, None),
}
ROLES = list(PEOPLE)


def signing_request() -> HttpRequest:
    """The request a service that checks a password is handed (django-axes counts it)."""
    return RequestFactory().post("/")


# The second factor of the signatures and releases that tests make through the services. The
# factor checks themselves are tested on their own (tests/accounts/test_second_factor.py, and
# in the browser); elsewhere a signature's factor is the test run's, as seed_demo's is its
# command's, and says so in the signature.
TEST_FACTOR = command_factor("pytest")
TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key


def authenticator_app(user: User) -> TOTPDevice:
    """``user``'s authenticator app in tests (set up on first use)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Test app", defaults={"key": TOTP_KEY, "confirmed": True}
    )
    return device


def totp_code(user: User) -> str:
    """A current, unused code of ``user``'s authenticator app, for tests that sign or release
    through pages and the API."""
    device = authenticator_app(user)
    # A code is accepted once (django-otp remembers the last time step used); each call starts
    # afresh so a test can sign twice within 30 seconds.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def second_factor_answered(client: Client, device: TOTPDevice) -> None:
    """The client's session answered its second factor with ``device``, as django-otp records
    it at sign-in."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@dataclass
class Cast:
    organisations: dict[str, Organisation]
    users: dict[str, User]
    # own: buyer → supplier A, inspected; b_order: buyer → supplier B; foreign: other buyer →
    # supplier A. Each has one batch.
    orders: dict[str, PurchaseOrder]
    batches: dict[str, Batch] = field(default_factory=dict)
    serial_lists: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    statements: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, Any] = field(default_factory=dict)
    payments: dict[str, Any] = field(default_factory=dict)
    inspections: dict[str, Any] = field(default_factory=dict)
    sampled_units: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)  # each order's own approved sample
    # The open point of each batch's approval, owned by the packer the supplier named.
    open_points: dict[str, Any] = field(default_factory=dict)

    def client(self, username: str | None) -> Client:
        """Signed in; those who sign or move money hold the test authenticator app and have
        answered it, as at sign-in (accounts.middleware)."""
        client = Client()
        if username:
            user = self.users[username]
            client.force_login(user)
            if needs_second_factor(user):
                second_factor_answered(client, authenticator_app(user))
        return client

    def api(self, username: str | None) -> APIClient:
        client = APIClient()
        if username:
            _, key = ApiToken.objects.create(user=self.users[username], name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client


# Which of the cast's orders each person may see.
VISIBLE = {
    "buyer": {"own", "b_order"},
    "finance": {"own", "b_order"},
    "service": {"own", "b_order"},
    "admin": {"own", "b_order"},
    "supplier_a": {"own", "foreign"},
    "supplier_b": {"b_order"},
    "inspector": {"own"},
    "other_buyer": {"foreign"},
    "outsider": set(),
}
ORDER_KEYS = ["own", "b_order", "foreign"]
MANAGERS = {"buyer", "admin", "other_buyer"}
BUYER_SIDE = {"buyer", "finance", "service", "admin", "other_buyer"}
BATCH_EDITORS = {"buyer", "admin", "other_buyer", "supplier_a", "supplier_b"}
# Who sees inspections: the buyer's staff and the assigned inspectors, never a supplier.
INSPECTION_VIEWERS = BUYER_SIDE | {"inspector"}
INSPECTION_RECORDERS = {"inspector", "admin"}
SUPPLIERS = {"supplier_a", "supplier_b"}


def make_order(user: User, supplier: Organisation, number: str, **extra: object) -> PurchaseOrder:
    today = datetime.date(2026, 11, 1)
    values: dict = {
        "product_name": "Volta 65W charger",
        "gtin": "05012345678900",
        "quantity": 1000,
        "order_date": today,
        "required_by": today + datetime.timedelta(days=30),
        "status": PurchaseOrder.Status.ISSUED,
    }
    values.update(extra)
    return services.order_create(user=user, supplier=supplier, number=number, **values)


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> None:
    """Uploads land in the test's own temporary folder, never in the working tree."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """Real hashing costs ~0.3 s a user; the cast has nine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db: None) -> Cast:
    kinds = {
        "buyer": Organisation.Kind.BUYER,
        "other_buyer": Organisation.Kind.BUYER,
        "supplier_a": Organisation.Kind.SUPPLIER,
        "supplier_b": Organisation.Kind.SUPPLIER,
        "inspection": Organisation.Kind.INSPECTION_FIRM,
    }
    organisations = {
        key: Organisation.objects.create(name=f"{key.replace('_', ' ').title()} Co", kind=kind)
        for key, kind in kinds.items()
    }
    users = {}
    for username, (org_key, role) in PEOPLE.items():
        user = User.objects.create_user(
            username=username,
            password=PASSWORD,
            first_name=username.title(),
            email=f"{username}@example.com",
        )
        if org_key:
            Membership.objects.create(user=user, organisation=organisations[org_key], role=role)
        users[username] = user
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    orders = {
        "own": make_order(
            users["buyer"],
            organisations["supplier_a"],
            "PO-OWN",
            inspection_firms=[organisations["inspection"]],
        ),
        "b_order": make_order(users["buyer"], organisations["supplier_b"], "PO-BEE"),
        "foreign": make_order(users["other_buyer"], organisations["supplier_a"], "PO-FOREIGN"),
    }
    batches = {
        key: services.batch_create(
            order=order,
            user=users["other_buyer" if key == "foreign" else "buyer"],
            code=f"{key.upper()}-B1",
            planned_quantity=100,
        )
        for key, order in orders.items()
    }
    return Cast(organisations=organisations, users=users, orders=orders, batches=batches)


@pytest.fixture
def cast_with_lists(cast: Cast) -> Cast:
    """The cast, with numbering rules for both buyers and a validated serial list per batch."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from serials import services as serial_services

    for buyer in ("buyer", "other_buyer"):
        serial_services.numbering_rule_save(
            user=cast.users[buyer],
            product="05012345678900",
            prefix="VLT",
            width=6,
            check_digit="none",
        )
    uploaders = {"own": "supplier_a", "b_order": "supplier_b", "foreign": "supplier_a"}
    for key, batch in cast.batches.items():
        content = b"serial\nVLT000001\nVLT000003\nVLT000003\n"
        serial_list = serial_services.serial_list_upload(
            batch=batch,
            user=cast.users[uploaders[key]],
            uploaded_file=SimpleUploadedFile(f"{key}.csv", content),
        )
        serial_services.serial_list_validate(serial_list_id=serial_list.pk)
        cast.serial_lists[key] = serial_list
    _add_evidence(cast, uploaders)
    _add_samples(cast)
    return cast


def _add_samples(cast: Cast) -> None:
    """An approved sample of each order's own (so each is seen exactly where its order is), of
    a layout every label the tests read fits: plain text, any serial."""
    from orders.samples import approved_sample_create
    from tests.evidence.conftest import jpeg, png

    buyers = {"own": "buyer", "b_order": "buyer", "foreign": "other_buyer"}
    for key, order in cast.orders.items():
        cast.samples[key] = approved_sample_create(
            user=cast.users[buyers[key]],
            order=order,
            sample_photo=jpeg(f"sample-{key}.jpg", colour="navy"),
            label_photo=png(f"label-{key}.png"),
            label_fields=["serial"],
            symbology="plain_text",
            instruction=f"Read the serial of each unit of {order.number}.",
        )


def _add_evidence(cast: Cast, uploaders: dict[str, str]) -> None:
    """A processed photo, a request and a statement on each batch."""
    from approvals import services as approvals
    from evidence import services as evidence_services
    from inspection import services as inspection_services
    from tests.evidence.conftest import jpeg

    buyers = {"own": "buyer", "b_order": "buyer", "foreign": "other_buyer"}
    for key, batch in cast.batches.items():
        item = evidence_services.evidence_upload(
            batch=batch,
            user=cast.users[uploaders[key]],
            kind="photo",
            uploaded_file=jpeg(f"{key}.jpg", captured="2026:11:02 10:00:00", colour="teal"),
        )
        evidence_services.evidence_process(item_id=item.pk)
        cast.evidence[key] = item
        cast.requests[key] = evidence_services.request_create(
            promises=["process"],
            batch=batch,
            user=cast.users[buyers[key]],
            subject=f"Question on {key}",
            question="Which line printed these labels?",
            due_on=datetime.date(2030, 1, 1),
        )
        cast.statements[key] = evidence_services.statement_write(
            request=cast.requests[key], user=cast.users[uploaders[key]], text="Line 2."
        )
        buyer = cast.users[buyers[key]]
        packer = evidence_services.responsibility_record(
            order=batch.order,
            user=cast.users[uploaders[key]],
            role="packs",
            party_name=f"Packing hall of {key}",
            party_type="supplier",
            contact="packing@example.com",
            accepts_responsibility=True,
        )
        cast.gates[key] = approvals.gate_create(
            user=buyer, order=batch.order, batch=batch, kind="shipment_release"
        )
        cast.approvals[key] = approvals.approval_sign(
            promises=["identity", "payment"],
            user=buyer,
            password=PASSWORD,
            request=signing_request(),
            order=batch.order,
            batch=batch,
            decision="accepted_with_conditions",
            sentence=f"Batch {batch.code} may ship as photographed.",
            conditions="The gap and the duplicate are explained before the balance.",
            pins=[
                ("evidence", item.pk),
                *(("exception", pk) for pk in batch.serial_exceptions.values_list("pk", flat=True)),
            ],
            unlocks=[cast.gates[key]],
            open_points=[
                approvals.OpenPointDraft(
                    text=f"The packing hall of {key} shows its scanner refuses repeated labels.",
                    owner=packer,
                    due_on=datetime.date(2030, 1, 1),
                )
            ],
            factor=TEST_FACTOR,
        )
        cast.open_points[key] = cast.approvals[key].open_points.get()
        cast.payments[key] = _payment(cast.gates[key], key)
        cast.inspections[key] = inspection_services.inspection_plan_create(
            batch=batch, user=buyer, level="II", aql="1.0", seed=7
        )
        cast.sampled_units[key] = cast.inspections[key].units.first()


def _payment(gate: Any, key: str) -> Any:
    """A recorded payment on each gate (made directly: the other buyer has no finance clerk)."""
    from django.core.files.base import ContentFile

    from approvals.models import Payment
    from portal.storage import store_by_hash

    name, sha, _ = store_by_hash(
        ContentFile(b"%PDF-1.4 " + key.encode()), folder="payment-documents"
    )
    return Payment.objects.create(
        gate=gate,
        kind="deposit",
        amount=100,
        currency="USD",
        payee="Supplier",
        paid_on=datetime.date(2026, 11, 5),
        document=name,
        document_name=f"{key}.pdf",
        document_sha256=sha,
        gate_state="open",
        recorded_by=gate.order.approvals.first().signature.signer,
    )


class WorkerProcess:
    """A real Celery worker (``celery -A portal worker``) reading the test database."""

    def __init__(self, **env: str) -> None:
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}"
            f"/{db['NAME']}",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **env,
        }
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.ready_file = Path(settings.MEDIA_ROOT).parent / f"{self.hostname}.ready"
        self.env["CELERY_WORKER_READY_FILE"] = str(self.ready_file)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start the worker and wait until it consumes (its ready file, written by the
        ``worker_ready`` signal: a solo worker that took a job at once cannot answer a ping)."""
        self.ready_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--hostname",
                self.hostname,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start (exit code {self.process.poll()})")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to acknowledge or give back its job."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def worker_factory(transactional_db: None) -> Iterator[type[WorkerProcess]]:
    """Start real workers on the configured broker; all are stopped after the test."""
    from django.conf import settings
    from django.db import connection

    from portal.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("CI must run the worker tests on PostgreSQL and Redis.")
        pytest.skip("needs PostgreSQL and a Redis broker (see make test)")
    app.control.purge()  # jobs left over from earlier runs name rows that do not exist
    started: list[WorkerProcess] = []

    class Tracked(WorkerProcess):
        def start(self) -> WorkerProcess:
            started.append(self)
            return super().start()

    yield Tracked
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker_process(worker_factory: type[WorkerProcess]) -> str:
    """One real Celery worker for the test."""
    return worker_factory().start().hostname


@pytest.fixture
def rule(cast: Cast) -> NumberingRule:
    """The buyer's rule for the cast's product (GTIN 05012345678900): VLT + 6 digits."""
    from serials import services as serial_services

    return serial_services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )


@pytest.fixture
def signable(cast: Cast) -> dict[str, Any]:
    """Batch OWN-B1 with its label print on file (captured during production) and a shipment
    gate to open: what signing needs. Keys: batch, photo, gate."""
    from approvals import services as approvals
    from evidence import services as evidence_services
    from tests.evidence.conftest import jpeg

    batch = cast.batches["own"]
    photo = evidence_services.evidence_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label-B1.jpg", captured="2026:11:04 10:00:00"),
    )
    gate = approvals.gate_create(
        user=cast.users["buyer"], order=batch.order, batch=batch, kind="shipment_release"
    )
    return {"batch": batch, "photo": photo, "gate": gate}
