"""The keyed chain, its checkpoints outside the database, and the one verification.

A local RFC 3161 time-stamping authority (a CA and a TSA certificate made here with openssl,
``openssl ts -reply`` answering over HTTP on 127.0.0.1) proves the TSA path end to end. Each
tampering is done past the append-only triggers, as someone with the database's keys could.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pgtrigger
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from orders import services
from portal import anchors
from portal.integrity import integrity_verify
from portal.models import AuditEvent
from tests.conftest import Cast

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only"
)


def _verify_fails(capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command; it must exit 1. Returns what it printed, one finding a line."""
    capsys.readouterr()
    with pytest.raises(CommandError, match="integrity finding"):
        call_command("integrity_verify")
    return capsys.readouterr().out


def _verify_holds(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    call_command("integrity_verify")
    out = capsys.readouterr().out
    assert "Integrity holds" in out
    return out


def _all_triggers() -> list[str]:
    """Every pgtrigger trigger of every model: the row triggers and any TRUNCATE trigger."""
    return [
        f"{model._meta.label}:{trigger.name}"
        for model in apps.get_models()
        for trigger in getattr(model._meta, "triggers", [])
    ]


def _more_events(cast: Cast, count: int) -> None:
    order = cast.orders["own"]
    for quantity in range(1001, 1001 + count):
        services.order_update(order=order, user=cast.users["buyer"], quantity=quantity)


def _rehash_from(first_id: int, hasher: object) -> None:
    """Rewrite the chain from ``first_id`` on: each event's hash by ``hasher(event)`` and the
    next one's link to it, as a forger would after changing an event."""
    events = list(AuditEvent.objects.filter(pk__gte=first_id).order_by("id"))
    before = AuditEvent.objects.filter(pk__lt=first_id).order_by("-id").first()
    prev = before.hash if before else "0" * 64
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        for event in events:
            event.prev_hash = prev
            event.hash = hasher(event)  # type: ignore[operator]
            AuditEvent.objects.filter(pk=event.pk).update(
                prev_hash=event.prev_hash, hash=event.hash
            )
            prev = event.hash


# ---------------------------------------------------------------- the keyed chain


def test_each_event_hash_is_an_hmac_under_the_audit_key(cast: Cast, settings: Any) -> None:
    event = AuditEvent.objects.latest("id")
    assert event.hash != hashlib.sha256(event.canonical()).hexdigest()
    assert event.hash == event.compute_hash(settings.AUDIT_KEY)
    assert event.hash != event.compute_hash("another key of the same kind, but not ours")
    # Under another key, the whole chain is found.
    settings.AUDIT_KEY = "another key of the same kind, but not ours"
    assert not integrity_verify(["chain"]).ok


def test_an_untouched_chain_with_checkpoints_verifies(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("integrity_checkpoint")
    _more_events(cast, 2)
    call_command("integrity_checkpoint")
    out = _verify_holds(capsys)
    assert f"chain {AuditEvent.objects.count()}, anchors 2" in out
    lines = anchors.anchor_path().read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert (first["seq"], second["seq"], second["prev"]) == (1, 2, first["sha256"])
    head = AuditEvent.objects.latest("id")
    assert (second["events"], second["last_id"], second["last_hash"]) == (
        AuditEvent.objects.count(),
        head.id,
        head.hash,
    )
    assert second["sealed_at"].endswith("Z") and "tsa" not in second
    # Each run is logged beside the anchor file, for an admin to read later.
    logged = [json.loads(line) for line in anchors.verify_log_path().read_text().splitlines()]
    assert logged[-1]["ok"] is True and logged[-1]["source"] == "command integrity_verify"


@postgres_only
def test_deleting_the_newest_events_after_a_checkpoint_is_found(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    _more_events(cast, 3)
    call_command("integrity_checkpoint")
    newest = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True)[:3])
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk__in=newest).delete()
    # What is left is a whole chain: only the checkpoint can tell.
    assert integrity_verify(["chain"]).ok
    out = _verify_fails(capsys)
    assert f"the chain no longer holds event #{max(newest)}" in out
    assert "deleted from the tail, or truncated" in out
    assert "audit-anchor.jsonl line 1 (cp-000001-" in out


@postgres_only
def test_a_rewritten_event_rehashed_with_plain_sha256_is_found(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("integrity_checkpoint")
    victim = AuditEvent.objects.order_by("id")[2]
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk=victim.pk).update(payload={"quantity": 5})
    _rehash_from(victim.pk, lambda event: hashlib.sha256(event.canonical()).hexdigest())
    out = _verify_fails(capsys)
    head = AuditEvent.objects.latest("id")
    # The links hold, the HMACs do not: one finding for the run of re-hashed events.
    assert f"portal_auditevent #{victim.pk}–{head.pk}: " in out
    assert "not the HMAC of their contents under AUDIT_KEY" in out
    assert "does not link" not in out
    assert f"event #{head.pk}'s hash is not the one sealed" in out


@postgres_only
def test_a_chain_rehashed_with_a_wrong_key_is_found(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("integrity_checkpoint")
    victim = AuditEvent.objects.order_by("id")[1]
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk=victim.pk).update(actor_label="Someone Else")
    _rehash_from(victim.pk, lambda event: event.compute_hash("a guessed key, not the real one"))
    out = _verify_fails(capsys)
    assert f"portal_auditevent #{victim.pk}–" in out
    assert "re-hashed without the key or with another" in out


@postgres_only
def test_a_truncated_audit_table_is_found(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    count = AuditEvent.objects.count()
    call_command("integrity_checkpoint")
    with pgtrigger.ignore(*_all_triggers()), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check left pending
        cursor.execute("TRUNCATE portal_auditevent CASCADE")
    assert AuditEvent.objects.count() == 0
    assert integrity_verify(["chain"]).ok  # an empty chain is a whole one
    out = _verify_fails(capsys)
    assert f"sealed as the head of {count} events; it holds 0" in out


@postgres_only
def test_deleting_an_event_before_the_checkpointed_head_is_found(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("integrity_checkpoint")
    events = list(AuditEvent.objects.order_by("id")[:3])
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    out = _verify_fails(capsys)
    assert f"portal_auditevent #{events[2].pk}: its prev_hash does not link" in out
    assert "events before it were removed or inserted" in out


def test_a_changed_or_forged_anchor_line_is_found(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("integrity_checkpoint")
    call_command("integrity_checkpoint")
    path = anchors.anchor_path()
    _first, second = (json.loads(line) for line in path.read_text().splitlines())
    # A line rewritten without the key (its hash recomputed, its HMAC guessed), and a line
    # removed: the chain of lines shows it.
    second["events"] = 1
    second["sha256"] = anchors.body_sha256(second)
    path.write_text(json.dumps(second) + "\n")
    out = _verify_fails(capsys)
    assert "line 1 (cp-000002-" in out and "its HMAC does not match" in out
    # With the key, the rewritten line verifies, but it no longer follows the one removed.
    second["hmac"] = anchors.line_hmac(second)
    path.write_text(json.dumps(second) + "\n")
    out = _verify_fails(capsys)
    assert "it does not follow checkpoint 0 (a line was removed or moved)" in out
    assert f"events up to #{second['last_id']} now, 1 when sealed" in out


def test_no_checkpoint_yet_is_said_but_not_a_finding(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _verify_holds(capsys)
    assert "anchors: no checkpoint yet" in out


# ---------------------------------------------------------------- records against their events


def test_every_record_a_decision_rests_on_is_sealed_in_its_audit_event() -> None:
    """Each append-only model but the chain itself has its content hash in the event that
    recorded it (``portal.records``); the tamper suite (test_tamper.py) changes them."""
    from portal.records import sealed_models
    from tests.portal.test_immutability import DECISION_RECORDS

    assert sealed_models() == DECISION_RECORDS - {"portal.AuditEvent"}


# ---------------------------------------------------------------- a local RFC 3161 authority


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def local_tsa(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A test CA, a TSA certificate it issued (extendedKeyUsage critical timeStamping), and
    ``openssl ts -reply`` answering time-stamp queries at http://127.0.0.1:<port>/."""
    home = tmp_path / "tsa"
    home.mkdir()
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "30", "-subj", "/CN=Portal Test TSA CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=home,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
        "-subj", "/CN=Portal Test TSA",
        cwd=home,
    )  # fmt: skip
    (home / "tsa.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.pem", "-days", "30", "-extfile", "tsa.ext",
        cwd=home,
    )  # fmt: skip
    (home / "serial").write_text("01\n")
    (home / "tsa.cnf").write_text(
        f"""[ tsa ]
default_tsa = portal_test_tsa
[ portal_test_tsa ]
dir = {home}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
    )
    answered: list[int] = []

    class Authority(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            query = home / f"query-{len(answered)}.tsq"
            reply = home / f"reply-{len(answered)}.tsr"
            query.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            _openssl(
                "ts", "-reply", "-config", "tsa.cnf", "-queryfile", query.name,
                "-out", reply.name,
                cwd=home,
            )  # fmt: skip
            answered.append(1)
            body = reply.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = HTTPServer(("127.0.0.1", 0), Authority)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", home / "ca.pem"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_checkpoints_are_time_stamped_by_an_rfc3161_authority(
    cast: Cast,
    settings: Any,
    local_tsa: tuple[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, ca = local_tsa
    settings.TSA_URL, settings.TSA_CA_PATH = url, str(ca)
    call_command("integrity_checkpoint")
    assert "time-stamp token" in capsys.readouterr().out
    line = json.loads(anchors.anchor_path().read_text().splitlines()[-1])
    token = anchors.anchor_path().parent / line["tsa"]["token"]
    assert line["tsa"] == {"url": url, "token": f"tokens/{line['checkpoint']}.tsr"}
    assert token.exists()
    # Anyone can check the token with openssl and the TSA's CA, without the portal: it is over
    # the line's hash, which is the SHA-256 of the line's body.
    assert line["sha256"] == hashlib.sha256(anchors.canonical(anchors.line_body(line))).hexdigest()
    verified = subprocess.run(
        ["openssl", "ts", "-verify", "-digest", line["sha256"], "-in", str(token),
         "-CAfile", str(ca)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "Verification: OK" in verified.stdout
    _verify_holds(capsys)

    # A token swapped for one over another hash is found by the imprint.
    other = anchors.timestamp_request(b"something else", url)
    token.write_bytes(other)
    assert "is over another hash" in _verify_fails(capsys)
    # A token removed is found too.
    token.unlink()
    assert "is missing" in _verify_fails(capsys)


def test_a_token_the_ca_did_not_issue_is_refused_by_openssl(
    cast: Cast,
    settings: Any,
    local_tsa: tuple[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, ca = local_tsa
    settings.TSA_URL = url
    call_command("integrity_checkpoint")
    _verify_holds(capsys)  # without a CA file, the imprint is checked, not the signer
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key",
        "-out", "other.pem", "-days", "1", "-subj", "/CN=Some Other CA",
        cwd=tmp_path,
    )  # fmt: skip
    settings.TSA_CA_PATH = str(tmp_path / "other.pem")
    assert "openssl ts -verify refuses its time-stamp token" in _verify_fails(capsys)


def test_a_failing_authority_still_seals_the_line(
    cast: Cast, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.TSA_URL = "http://127.0.0.1:9/"  # discard: nothing answers
    with pytest.raises(CommandError, match="the time-stamping authority failed"):
        call_command("integrity_checkpoint")
    line = json.loads(anchors.anchor_path().read_text().splitlines()[-1])
    assert line["tsa"]["error"] and "token" not in line["tsa"]
    _verify_holds(capsys)


def test_beat_seals_every_ten_minutes_and_verifies_nightly(cast: Cast, settings: Any) -> None:
    from portal import tasks

    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["integrity-checkpoint"] == {
        "task": "portal.tasks.integrity_checkpoint",
        "schedule": 600.0,
    }
    assert schedule["integrity-verify"]["task"] == "portal.tasks.integrity_verify"
    assert tasks.integrity_checkpoint().startswith("cp-000001-")
    assert tasks.integrity_verify() == 0
    logged = json.loads(anchors.verify_log_path().read_text().splitlines()[-1])
    assert logged["source"] == "beat" and logged["ok"] is True
