"""Checkpoints of the audit chain, sealed outside the database.

``checkpoint_seal()`` reads the chain's head (how many events, the last one's id and hash) under
the chain lock and appends one JSON line to the anchor file (``settings.AUDIT_ANCHOR_PATH``;
by default ``integrity/audit-anchor.jsonl`` beside ``MEDIA_ROOT``), opened with ``O_APPEND`` and
fsynced. A line (``kind`` … ``prev``) is the body; ``sha256`` is the SHA-256 of the body as
canonical JSON (sorted keys, no spaces); ``prev`` is the previous line's ``sha256``, so lines
chain too; ``hmac`` is HMAC-SHA256 under ``settings.AUDIT_KEY`` of the whole line but itself.
With ``settings.TSA_URL`` set, an RFC 3161 time-stamping authority signs ``sha256`` (the token's
message imprint) and the response is kept in ``tokens/<checkpoint>.tsr`` beside the anchor file,
named in the line's ``tsa``; anyone can check it with ``openssl ts -verify -digest <sha256>
-in tokens/<checkpoint>.tsr -CAfile <the TSA's CA>``.

Rows deleted from the tail, a TRUNCATE, or a chain re-hashed after a checkpoint no longer hold
the event the line sealed; ``portal.integrity`` finds them.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portal.audit import AUDIT_CHAIN_LOCK
from portal.models import GENESIS_HASH, AuditEvent

KIND = "audit-anchor"
VERSION = 1
TOKENS_DIR = "tokens"
TSA_TIMEOUT_SECONDS = 20
# The fields of a line's body, in the order written (the hash is over sorted keys anyway).
BODY_FIELDS = ("kind", "v", "seq", "checkpoint", "sealed_at", "events", "last_id", "last_hash")


class CheckpointError(Exception):
    pass


def anchor_path() -> Path:
    """The anchor file: the setting, or ``integrity/audit-anchor.jsonl`` beside MEDIA_ROOT
    (resolved when used, so a test's or a worker's MEDIA_ROOT takes its anchors along)."""
    if settings.AUDIT_ANCHOR_PATH:
        return Path(settings.AUDIT_ANCHOR_PATH)
    return Path(settings.MEDIA_ROOT).parent / "integrity" / "audit-anchor.jsonl"


def verify_log_path() -> Path:
    """Where each integrity_verify run leaves its result: one JSON line, beside the anchors."""
    return anchor_path().with_name("integrity-verify.jsonl")


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def line_body(line: dict[str, Any]) -> dict[str, Any]:
    return {name: line.get(name) for name in (*BODY_FIELDS, "prev")}


def body_sha256(line: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(line_body(line))).hexdigest()


def line_hmac(line: dict[str, Any], key: str | None = None) -> str:
    """HMAC-SHA256, under the audit key, of the line as canonical JSON without ``hmac``."""
    secret = (settings.AUDIT_KEY if key is None else key).encode()
    signed = {name: value for name, value in line.items() if name != "hmac"}
    return hmac.new(secret, canonical(signed), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    events: int
    last_id: int | None
    last_hash: str


@dataclass(frozen=True)
class Checkpoint:
    name: str
    seq: int
    head: ChainHead
    sha256: str
    token: Path | None
    tsa_error: str


def chain_head() -> ChainHead:
    """Count and last event read together: appends take the chain lock and commit before they
    release it, so under that lock nothing half-written is seen."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        count = AuditEvent.objects.count()
        last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    if last is None:
        return ChainHead(events=count, last_id=None, last_hash=GENESIS_HASH)
    return ChainHead(events=count, last_id=last[0], last_hash=last[1])


def checkpoint_seal() -> Checkpoint:
    """Append a checkpoint of the chain's head to the anchor file (and time-stamp it when a TSA
    is configured). A failing TSA does not stop the line: it says so in ``tsa.error``."""
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one checkpoint at a time: lines chain by seq and prev
        seq, prev, ends_cleanly = _last_line(fd)
        head = chain_head()
        now = timezone.now().astimezone(datetime.UTC)
        name = f"cp-{seq + 1:06d}-{now:%Y%m%dT%H%M%SZ}"
        line: dict[str, Any] = {
            "kind": KIND,
            "v": VERSION,
            "seq": seq + 1,
            "checkpoint": name,
            "sealed_at": now.isoformat().replace("+00:00", "Z"),
            "events": head.events,
            "last_id": head.last_id,
            "last_hash": head.last_hash,
            "prev": prev,
        }
        body = canonical(line_body(line))
        line["sha256"] = hashlib.sha256(body).hexdigest()
        token: Path | None = None
        tsa_error = ""
        if settings.TSA_URL:
            line["tsa"] = {"url": settings.TSA_URL}
            try:
                response = timestamp_request(body, settings.TSA_URL)
            except (OSError, ValueError, CheckpointError) as error:
                tsa_error = f"{type(error).__name__}: {error}"[:500]
                line["tsa"]["error"] = tsa_error
            else:
                token = path.parent / TOKENS_DIR / f"{name}.tsr"
                _write_new(token, response)
                line["tsa"]["token"] = f"{TOKENS_DIR}/{token.name}"
        line["hmac"] = line_hmac(line)
        text = ("" if ends_cleanly else "\n") + json.dumps(line, separators=(",", ":")) + "\n"
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    if created:
        _fsync_dir(path.parent)
    return Checkpoint(name, seq + 1, head, line["sha256"], token, tsa_error)


def _last_line(fd: int) -> tuple[int, str, bool]:
    """The last line's seq and sha256 (0 and zeros for an empty file), and whether the file ends
    with a newline (a line cut short by a crash is left as it is, and a new line starts)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, GENESIS_HASH, True
    tail = os.pread(fd, min(size, 64 * 1024), max(0, size - 64 * 1024)).decode(errors="replace")
    for text in reversed(tail.splitlines()):
        try:
            last = json.loads(text)
            return int(last["seq"]), str(last["sha256"]), tail.endswith("\n")
        except (ValueError, KeyError, TypeError):
            continue
    raise CheckpointError(
        f"{anchor_path()}: no readable checkpoint at its end; run integrity_verify and repair "
        "the file before sealing again."
    )


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class TokenInfo:
    """What a time-stamp response says: granted or not, over which hash, when, with which nonce."""

    status: str
    hash_algorithm: str
    imprint: bytes
    gen_time: datetime.datetime | None
    nonce: int | None


def token_read(raw: bytes) -> TokenInfo:
    """Parse an RFC 3161 response (asn1crypto); ValueError if it is not one."""
    from asn1crypto import tsp

    try:
        response = tsp.TimeStampResp.load(raw)
        status = str(response["status"]["status"].native)
        if status not in ("granted", "granted_with_mods"):
            return TokenInfo(status, "", b"", None, None)
        signed = response["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        return TokenInfo(
            status=status,
            hash_algorithm=str(imprint["hash_algorithm"]["algorithm"].native),
            imprint=bytes(imprint["hashed_message"].native),
            gen_time=info["gen_time"].native,
            nonce=info["nonce"].native,
        )
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"not an RFC 3161 time-stamp response ({error})") from error


def timestamp_request(data: bytes, url: str) -> bytes:
    """Ask an RFC 3161 authority to time-stamp SHA-256(data); return its DER response once it is
    checked: granted, over that imprint, with our nonce. The request is built and the response
    read with asn1crypto; the signature is checked by ``openssl ts -verify`` (portal.integrity).
    """
    from asn1crypto import tsp

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise CheckpointError(f"TSA_URL must be an http(s) URL, not {url!r}.")
    digest = hashlib.sha256(data).digest()
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    post = urllib.request.Request(  # noqa: S310  (the scheme is checked above)
        url,
        data=request.dump(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    with urllib.request.urlopen(post, timeout=TSA_TIMEOUT_SECONDS) as answer:  # noqa: S310
        raw: bytes = answer.read()
    token = token_read(raw)
    if token.status not in ("granted", "granted_with_mods"):
        raise CheckpointError(f"the TSA refused: status {token.status}")
    if token.hash_algorithm != "sha256" or token.imprint != digest:
        raise CheckpointError("the TSA's token is over another hash than the one sent")
    if token.nonce != nonce:
        raise CheckpointError("the TSA's token carries another nonce than the one sent")
    return raw
