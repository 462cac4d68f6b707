"""`brandpulse dashboard` runs Streamlit as its child: stopping brandpulse stops the child too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# A parent that runs a long-lived child the way `brandpulse dashboard` runs Streamlit.
PARENT = """
import sys
from monitor.supervise import run_child
child = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"
sys.exit(run_child([sys.executable, "-c", child, sys.argv[1]]))
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, timeout: float = 30) -> bool:
    """Poll a condition until it holds or the deadline passes (process start-up is not instant)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_to_the_parent_stops_its_server_child(tmp_path: Path):
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(pid_file)])
    try:
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text()), "the child never started"
        child = int(pid_file.read_text())
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        assert wait_for(lambda: not alive(child), timeout=15), "the child outlived its parent"
    finally:
        parent.kill()
        if pid_file.exists() and pid_file.read_text() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
