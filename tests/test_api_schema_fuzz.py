"""The API answers as its OpenAPI schema says: a bounded schemathesis run over every operation.

The schema is read from the app itself (``/api/schema/``) and every request goes to the app
in-process (WSGI), as the cast's admin (the buyer's admin: the widest role) with an API token;
object ids in paths are drawn from the cast's objects as often as at random, so both real
objects and foreign or missing ids are tried. It is ``schemathesis run`` without a server, every
phase: examples, coverage (boundary and invalid values of every parameter and field, methods an
operation does not have), fuzzing (valid and invalid data) and stateful sequences (along links
inferred from the answers). Every check but one: no 5xx; status codes, content types, headers
and bodies as documented; invalid requests refused; authentication honoured.

Bounded and repeatable: a fixed seed, derandomized generation, ``MAX_EXAMPLES`` per operation
and phase, short stateful sequences: about 4,000 requests in one to one and a half minutes on
two cores. The engine sends them from its own thread, so the cast is committed
(``transaction=True``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from accounts.models import ApiToken
from tests.conftest import Cast

MAX_EXAMPLES = 10  # per operation and phase
STATEFUL_STEPS = 8
SEED = 13

# Which of the cast's objects a path of each shape names by its {id}.
PATH_OBJECTS = {
    r"^/api/orders/\{id\}/": "orders",
    r"^/api/batches/\{id\}/": "batches",
    r"^/api/serial-lists/\{id\}/": "serial_lists",
    r"^/api/evidence/\{id\}/": "evidence",
    r"^/api/approvals/\{id\}/": "approvals",
    r"^/api/gates/\{id\}/": "gates",
    r"^/api/inspections/\{id\}/": "inspections",
    r"^/api/sampled-units/\{id\}/": "sampled_units",
}


def _config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "cache": {"enabled": False},  # every run starts afresh, nothing written to the tree
            "headers": {"Authorization": f"Token {token}"},
            "generation": {
                "mode": "all",  # valid and invalid data
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,  # hypothesis' derandomize
                "database": "none",  # nothing remembered between runs, nothing written
            },
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "checks": {
                # Data of the right shape still breaks business rules (a wrong password, a
                # supplier that does not exist, a file that is not a spreadsheet): a 400 is right.
                "positive_data_acceptance": {"enabled": False},
            },
            # About generating data, not about the API: a slow or filtered strategy is fine.
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        }
    )


@pytest.fixture
def wsgi_transport_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32's WSGI transport drops the socket-level options of a request (there is
    no socket) only when it comes with a requests session; the requests its checks send without
    one reach werkzeug with ``max_redirects`` and fail. Drop them always."""
    send = WSGITransport.send

    def send_without_socket_options(self: Any, case: Any, *, session: Any = None, **kwargs: Any):
        if not isinstance(session, requests.Session):
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_socket_options)


class KeptConnections:
    """Django's WSGI app, whose requests keep their thread's database connection (as in
    Django's test client, they do not close it): the engine's threads each use one connection
    for the run instead of one per request, which would double its time. ``close`` ends them."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.kept: set[Any] = set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        connection = connections[DEFAULT_DB_ALIAS]
        if (
            threading.current_thread() is not threading.main_thread()
            and connection not in self.kept
        ):
            connection.inc_thread_sharing()  # closed by the test's thread at the end
            self.kept.add(connection)
        return self.handler(environ, start_response)

    def close(self) -> None:
        for connection in self.kept:
            connection.close()
            connection.dec_thread_sharing()


@pytest.fixture
def app() -> Iterator[KeptConnections]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    app = KeptConnections()
    try:
        yield app
    finally:
        app.close()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _api_schema(cast: Cast, app: KeptConnections) -> Any:
    _, token = ApiToken.objects.create(user=cast.users["admin"], name="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app, config=_config(token))
    known = {
        pattern: sorted(obj.pk for obj in getattr(cast, kind).values())
        for pattern, kind in PATH_OBJECTS.items()
    }

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        """Half the time, an {id} that names one of the cast's objects. A negative case may
        come with no path parameters at all (None): it is left as drawn."""
        path = context.operation.path
        for pattern, ids in known.items():
            if (
                re.match(pattern, path)
                and isinstance(path_parameters, dict)
                and isinstance(path_parameters.get("id"), int)
            ):
                return st.one_of(
                    st.just(path_parameters),
                    st.sampled_from(ids).map(lambda pk: {**path_parameters, "id": pk}),
                )
        return st.just(path_parameters)

    return schema


def _failures(recorder: Any, phase: str) -> list[str]:
    found = []
    for checks in recorder.checks.values():
        for check in checks:
            if check.failure_info is not None:
                failure = check.failure_info.failure
                found.append(
                    f"[{phase}] {recorder.label}: {check.name}: {failure.title}\n"
                    f"    {failure.message}\n    {check.failure_info.code_sample[:1000]}"
                )
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("wsgi_transport_fixed")
def test_the_api_answers_as_its_schema_says(cast_with_lists: Cast, app: KeptConnections) -> None:
    schema = _api_schema(cast_with_lists, app)
    problems: list[str] = []
    sent = 0
    phases: set[str] = set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            phase = getattr(event, "phase", "fuzz")
            phases.add(str(phase))
            sent += len(event.recorder.interactions)
            problems += _failures(event.recorder, str(phase))
        elif isinstance(event, events.NonFatalError):
            problems.append(
                f"[{event.phase}] {event.label}: error: {event.info.title}\n{event.value!r}"
            )
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            problems += [
                f"after the run: {failure.title}: {failure.message}" for failure in event.failures
            ]
    print(f"schemathesis: {sent} requests, phases {sorted(phases)}")
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} problems:\n" + "\n".join(unique)
    assert {"coverage", "fuzzing", "stateful"} <= phases, phases
