"""The Docker image can make the approval PDF: no Docker engine here, so the image's own build
check is run in this environment, shown to fail without a font, and the Dockerfile is read for
the system packages and the order of its layers."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "image_check.py"


def _run_check(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",  # as the build runs it: nothing from the test run's directory
        env={**os.environ, **env},
    )


def test_it_renders_a_one_page_pdf_in_the_image_check() -> None:
    result = _run_check()
    assert result.returncode == 0, result.stderr
    assert "1 page" in result.stdout and result.stdout.strip().endswith("ok")


def test_it_fails_the_image_check_when_no_font_is_installed(tmp_path: Path) -> None:
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{tmp_path / 'none'}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    result = _run_check(FONTCONFIG_FILE=str(tmp_path / "fonts.conf"))
    assert result.returncode == 1
    assert "install fonts-dejavu-core" in result.stderr


def test_it_builds_the_image_with_pango_a_font_and_the_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    steps = [
        line.split(None, 1)
        for line in re.sub(r"\\\n", " ", dockerfile).splitlines()
        if line.strip() and not line.startswith("#")
    ]
    runs = [i for i, (op, _) in enumerate(steps) if op == "RUN"]
    apt = next(steps[i][1] for i in runs if "apt-get install" in steps[i][1])
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "libmagic1"):
        assert package in apt.split()
    assert re.search(r"\bfonts-\S+", apt), "no font package: the slim image has none"

    position = {f"{op} {arg}": i for i, (op, arg) in enumerate(steps)}
    check = position["RUN python scripts/image_check.py"]
    # The check runs on the code as shipped, as the user the processes run as; dependencies are
    # installed from pyproject.toml before the code is copied, so code changes reuse that layer.
    assert position["COPY . ."] < check and position["USER portal"] < check
    install = next(i for i in runs if "pip install" in steps[i][1])
    assert position["COPY pyproject.toml README.md ./"] < install < position["COPY . ."]

    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "db.sqlite3", "media"} <= ignored
