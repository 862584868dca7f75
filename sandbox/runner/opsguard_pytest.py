"""OpsGuard's pytest plugin: per-test outcomes with the exception and its frames, for the
regression gate (pass-to-pass and fail-to-pass). Loaded with `-p opsguard_pytest` from the
read-only runner mount; it writes one line, last, through a duplicated stderr descriptor:
    OPSGUARD-TESTS <nonce> {"tests": {nodeid: {...}}, "exit_status": N}
"""
import json
import os
import traceback

import pytest

_fd = os.dup(2)
_write = os.write
_dumps = json.dumps
_results = {}


def pytest_addoption(parser):
    parser.addoption("--opsguard-nonce", default="", help="per-run nonce for OpsGuard's result line")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    entry = _results.setdefault(item.nodeid, {"outcome": "passed", "exception": None})
    if rep.failed:
        entry["outcome"] = "failed" if rep.when == "call" else "error"
        if call.excinfo is not None and entry["exception"] is None:
            exc = call.excinfo.value
            frames = traceback.extract_tb(call.excinfo.tb)
            entry["exception"] = {
                "type": type(exc).__name__,
                "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc)[:500],
                "frames": [{"file": f.filename, "line": f.lineno, "func": f.name} for f in frames][-30:],
            }
    elif rep.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"


def pytest_sessionfinish(session, exitstatus):
    nonce = session.config.getoption("--opsguard-nonce")
    line = "\nOPSGUARD-TESTS " + nonce + " " + _dumps({"tests": _results, "exit_status": int(exitstatus)}) + "\n"
    _write(_fd, line.encode())
