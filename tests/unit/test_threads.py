"""The thread share per process (vmsg.threads): the one home of the figure."""

from __future__ import annotations

import pytest

from vmsg.errors import UsageError
from vmsg.threads import cpus, share, threads


def test_share_divides_the_cpus_and_never_goes_below_one(monkeypatch):
    monkeypatch.delenv("VMSG_THREADS", raising=False)
    monkeypatch.setattr("vmsg.threads.cpus", lambda: 8)
    assert [share(n) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert threads() == 8


def test_vmsg_threads_wins_and_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("VMSG_THREADS", "3")
    assert threads() == 3 and share(4) == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("VMSG_THREADS", bad)
        with pytest.raises(UsageError, match="VMSG_THREADS"):
            threads()


def test_cpus_is_what_this_process_may_use():
    import os

    assert 1 <= cpus() <= (os.cpu_count() or 1)
