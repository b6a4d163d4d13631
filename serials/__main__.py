"""``python -m serials``: the serial command line (no Django)."""

import os

# NumPy asks for transparent huge pages on large arrays. When memory is fragmented (another big
# process just exited) the first touch then waits for the kernel to compact memory, which made
# a 10-million-serial run take 1.2 s instead of 0.7 s. Small pages cost less and never stall.
# Read by NumPy at import, so it must be set before the engine is imported.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

from serials.cli import main  # noqa: E402

raise SystemExit(main())
