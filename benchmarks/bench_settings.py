"""Settings for benchmarks that serve pages with ``DEBUG=false`` (``load_bench.py``): the
portal's own, with the collected static files in a scratch directory (``BENCH_STATIC_ROOT``)
instead of the tree's ``staticfiles/``, and not compressed (whitenoise's gzip and brotli copies
take collectstatic ~100 s here). Pages name static files through the same manifest either way;
the benchmark requests no static file."""

import os
from pathlib import Path

from portal.settings import *  # noqa: F403 - the portal's settings, unchanged
from portal.settings import STORAGES

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
