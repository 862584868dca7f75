"""OpsGuard's pytest plugin: one record per test, written as each test ends, for the regression gate.

Registered by opsguard_tests.py (not through -p or an entry point). For every test it writes
    D  test-start  {"nodeid"}
    D  test        {"nodeid", "outcome", "exception", "duration"}
to the run's records file at once, so the results written so far survive a container killed at its
deadline or out of memory. Outcomes: passed, failed, error (setup/teardown), skipped, timeout.

A per-test deadline (SIGALRM) fails a hanging test alone, as `timeout`, and the session goes on; if the
test does not give the signal a chance (C code holding the interpreter, a replaced handler), a watchdog
thread records the timeout and ends the process (the run is then incomplete, and says so).
With coverage.py running, each test is a coverage context, so the launcher can tell which tests
executed the lines a patch changed.
"""
import os
import signal
import threading
import time
import traceback

import pytest

WATCHDOG_EXIT = 85


class OpsGuardTestTimeout(BaseException):
    """Raised in a test that passed its deadline (BaseException: `except Exception` cannot keep it)."""


class OpsGuardPlugin:
    def __init__(self, guarded, per_test_seconds, cov):
        self.data = guarded.data
        self.inside_hook = guarded.inside_hook
        self.per_test_seconds = per_test_seconds
        self.cov = cov
        self.current = None
        self.started = 0.0
        self.entries = {}
        self.collected = 0
        self.collect_errors = 0

    # The per-test deadline ------------------------------------------------------------------
    def on_alarm(self, signum, frame):
        if self.current is None:
            return
        if self.inside_hook():
            signal.setitimer(signal.ITIMER_REAL, 0.01)  # not inside the guard's hook: try again shortly
            return
        raise OpsGuardTestTimeout(f"OpsGuard's per-test deadline of {self.per_test_seconds} s passed")

    def watchdog(self):
        grace = max(5.0, self.per_test_seconds / 2)
        while True:
            time.sleep(0.5)
            nodeid, started = self.current, self.started
            if nodeid is not None and time.monotonic() - started > self.per_test_seconds + grace:
                self.data("test", {"nodeid": nodeid, "outcome": "timeout", "exception": None,
                                   "duration": round(time.monotonic() - started, 3), "hard": True})
                self.data("aborted", {"nodeid": nodeid, "reason": "the test ignored its deadline"})
                os._exit(WATCHDOG_EXIT)

    # Collection -----------------------------------------------------------------------------
    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors += 1
            self.data("collect-error", {"nodeid": report.nodeid, "message": str(report.longrepr)[-2000:]})

    def pytest_collection_finish(self, session):
        self.collected = len(session.items)
        self.data("collected", {"count": self.collected})

    # Running --------------------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        nodeid = item.nodeid
        self.data("test-start", {"nodeid": nodeid})
        if self.cov is not None:
            self.cov.switch_context(nodeid)
        self.current, self.started = nodeid, time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.per_test_seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.current = None
            if self.cov is not None:
                self.cov.switch_context("")
            entry = self.entries.pop(nodeid, None) or {"nodeid": nodeid, "outcome": "error", "exception": None}
            entry["duration"] = round(time.monotonic() - self.started, 3)
            self.data("test", entry)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        entry = self.entries.setdefault(item.nodeid, {"nodeid": item.nodeid, "outcome": "passed", "exception": None})
        excinfo = call.excinfo
        if excinfo is not None and isinstance(excinfo.value, OpsGuardTestTimeout):
            entry["outcome"] = "timeout"
        elif rep.failed and entry["outcome"] in ("passed", "skipped"):
            entry["outcome"] = "failed" if rep.when == "call" else "error"
        elif rep.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"
        if rep.failed and excinfo is not None and entry["exception"] is None:
            exc = excinfo.value
            frames = traceback.extract_tb(excinfo.tb)
            entry["exception"] = {
                "type": type(exc).__name__,
                "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc)[:500],
                "frames": [{"file": f.filename, "line": f.lineno, "func": f.name} for f in frames][-30:],
            }


def install_deadline(plugin):
    """SIGALRM for the per-test deadline, and the watchdog behind it. Call before any test code runs."""
    signal.signal(signal.SIGALRM, plugin.on_alarm)
    threading.Thread(target=plugin.watchdog, name="opsguard-watchdog", daemon=True).start()
