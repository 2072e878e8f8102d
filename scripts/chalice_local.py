"""`chalice local ARGS...`, tied to the life of the process that started it.

run_local.py starts this in its own process group. On Linux the kernel sends it SIGTERM
when its parent dies (PR_SET_PDEATHSIG), so even a launcher killed with SIGKILL leaves no
server listening. Usage: chalice_local.py <parent pid> local --host ... --port ...
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> int:
    """Arm the parent-death signal, then run chalice's own CLI entry point."""
    parent = int(sys.argv[1])
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        return 0
    sys.argv = ["chalice", *sys.argv[2:]]
    from chalice.cli import main as chalice_main

    return int(chalice_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
