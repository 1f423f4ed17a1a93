"""One run per batch file: a second run gets a temporary error (exit 75); a killed holder frees the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from vmsg.errors import TemporaryError
from vmsg.locks import exclusive, lock_path_for

HOLD = "import sys, time; from vmsg.locks import exclusive\nwith exclusive(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)\n"


def test_second_holder_is_refused_with_the_pid(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_LOCK_DIR", str(tmp_path / "locks"))
    batch = tmp_path / "today.csv"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(batch)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(TemporaryError) as info:
            with exclusive(batch):
                pass
        assert info.value.exit_code == 75
        assert f"pid {proc.pid}" in str(info.value) and "already running" in str(info.value)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        with exclusive(batch) as path:
            assert path == lock_path_for(batch) and path.read_text() == str(os.getpid())
    finally:
        proc.kill()
        proc.wait()


def test_lock_names_differ_per_batch_path(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_LOCK_DIR", str(tmp_path))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = lock_path_for(tmp_path / "a" / "m.csv"), lock_path_for(tmp_path / "b" / "m.csv")
    assert first != second and first.name.startswith("m.csv-")
    with exclusive(tmp_path / "a" / "m.csv"), exclusive(tmp_path / "b" / "m.csv"):
        time.sleep(0)
