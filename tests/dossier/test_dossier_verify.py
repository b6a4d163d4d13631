"""The dossier can be checked without the portal: ``sha256sum -c`` and ``openssl ts -verify``
run on the extracted files, as its README says, against a local RFC 3161 authority."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from django.core.management import call_command

from orders import services
from portal import anchors
from portal.integrity import integrity_run_record, integrity_verify
from tests.conftest import Cast
from tests.portal.test_integrity import local_tsa  # noqa: F401  (a fixture)


def _export(cast: Cast, tmp_path: Path) -> Path:
    order = cast.orders["own"]
    output = tmp_path / "dossier.zip"
    call_command("dossier_export", str(order.pk), output=str(output), stdout=io.StringIO())
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(output) as archive:
        archive.extractall(folder)
    return folder


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_extracted_dossier_verifies_with_sha256sum_and_openssl(
    cast_with_lists: Cast,
    settings: Any,
    local_tsa: tuple[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    cast = cast_with_lists
    url, ca = local_tsa
    settings.TSA_URL, settings.TSA_CA_PATH = url, str(ca)
    call_command("integrity_checkpoint", stdout=io.StringIO())
    # A second checkpoint after one more event of the order: the segment is covered by both.
    order = cast.orders["own"]
    services.order_update(order=order, user=cast.users["buyer"], quantity=1234)
    call_command("integrity_checkpoint", stdout=io.StringIO())
    # The chain and its checkpoints hold (the other parts are the verification's own tests').
    integrity_run_record(integrity_verify(["chain", "anchors"]), source="test")
    folder = _export(cast, tmp_path)

    # 1. Every file is what SHA256SUMS says, README and manifest included.
    checked = _run("sha256sum", "-c", "SHA256SUMS", cwd=folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "README.txt: OK" in checked.stdout and "manifest.json: OK" in checked.stdout

    # 2. Each token verifies with the command the README gives, exactly as written.
    readme = (folder / "README.txt").read_text()
    commands = re.findall(r"^\s+(openssl ts -verify .+)$", readme, flags=re.MULTILINE)
    tokens = sorted(path.name for path in (folder / "integrity" / "tokens").iterdir())
    assert len(commands) == len(tokens) == 2
    for command in commands:
        verified = _run(*command.split(), cwd=folder)
        assert verified.returncode == 0, (command, verified.stderr)
        assert "Verification: OK" in verified.stdout
    assert (folder / "integrity" / "tsa-ca.pem").read_bytes() == ca.read_bytes()

    # The body file hashes to the line's sha256, the line is the anchor file's line as written.
    lines = (folder / "integrity" / "checkpoints.jsonl").read_text().splitlines()
    assert set(lines) <= set(anchors.anchor_path().read_text().splitlines())
    for text in lines:
        line = json.loads(text)
        body = folder / "integrity" / "checkpoints" / f"{line['checkpoint']}.body.json"
        assert hashlib.sha256(body.read_bytes()).hexdigest() == line["sha256"]

    # The segment is the order's events, with hashes a holder of the key can recompute.
    segment = [
        json.loads(text)
        for text in (folder / "integrity" / "chain-segment.jsonl").read_text().splitlines()
    ]
    events = list(order.audit_events.order_by("id").values_list("id", "hash", "prev_hash"))
    assert [(e["id"], e["hash"], e["prev_hash"]) for e in segment] == events
    for event in segment:
        fields = {k: v for k, v in event.items() if k not in ("id", "hash")}
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        assert (
            hmac.new(settings.AUDIT_KEY.encode(), canonical, "sha256").hexdigest()
            == (event["hash"])
        )
    # The newest checkpoint covers every event of the order.
    assert json.loads(lines[-1])["last_id"] >= max(e["id"] for e in segment)
    last_run = json.loads((folder / "integrity" / "last-verification.json").read_text())
    assert last_run["ok"] is True
    assert "HMAC" in readme and "AUDIT_KEY" in readme and "WARNING" not in readme

    # 3. One changed byte in the extracted copy: sha256sum -c fails and names the file.
    victim = folder / "integrity" / "chain-segment.jsonl"
    victim.write_bytes(victim.read_bytes().replace(b'"quantity"', b'"Quantity"', 1))
    assert b'"Quantity"' in victim.read_bytes()
    tampered = _run("sha256sum", "-c", "SHA256SUMS", cwd=folder)
    assert tampered.returncode != 0
    assert "integrity/chain-segment.jsonl: FAILED" in tampered.stdout


def test_without_a_tsa_or_checkpoint_the_readme_says_what_there_is(
    cast_with_lists: Cast, tmp_path: Path
) -> None:
    folder = _export(cast_with_lists, tmp_path)
    readme = (folder / "README.txt").read_text()
    assert not (folder / "integrity" / "tokens").exists()
    assert (folder / "integrity" / "checkpoints.jsonl").read_text() == ""
    assert "No checkpoint carried here has a time-stamp token" in readme
    assert "none covers them yet" in readme
    assert _run("sha256sum", "-c", "SHA256SUMS", cwd=folder).returncode == 0
