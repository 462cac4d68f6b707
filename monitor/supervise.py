"""Running a server as our child (`brandpulse dashboard` starts Streamlit): stopping us stops it.

Without this, SIGTERM from a service manager or `kill` ends brandpulse at once and leaves its
Streamlit child serving the port, with nobody left to stop it.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping, Sequence
from types import FrameType

# How long a child has to finish after SIGTERM before it is killed.
STOP_TIMEOUT_S = 10


def run_child(command: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run `command` until it exits; SIGTERM to us is passed on to it, and we wait for it to stop.
    Ctrl-C reaches the child from the terminal itself; should we stop first, the child is stopped
    too. Returns the child's exit code."""
    child = subprocess.Popen(list(command), env=dict(env) if env is not None else None)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, pass_on)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
