"""Check (and under CI start) the services the tests use: PostgreSQL and Redis.

python scripts/services.py check   # exit 1 naming what does not answer
python scripts/services.py start   # start what does not answer, then check
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")


def postgres_problem() -> str | None:
    import psycopg2

    url = urlparse(DATABASE_URL)
    try:
        psycopg2.connect(
            host=url.hostname,
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as error:
        return (
            f"PostgreSQL at {url.hostname}:{url.port or 5432} does not answer ({error}".strip()
            + ")"
        )
    return None


def redis_problem() -> str | None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"Redis at {BROKER_URL} does not answer ({error})"
    return None


def start() -> None:
    if postgres_problem():
        versions = sorted(Path("/etc/postgresql").glob("*"))
        if versions:
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"],
                check=False,
            )
    if redis_problem():
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
        )
    for _ in range(30):
        if not postgres_problem() and not redis_problem():
            return
        time.sleep(1)


def main() -> int:
    if sys.argv[1:] == ["start"]:
        start()
    problems = [p for p in (postgres_problem(), redis_problem()) if p]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
