"""OpsGuard's reproduction runner: runs the pinned reproduction script and reports what happened.

Mounted read-only at /opsguard/runner, outside the workspace, next to the script (also read-only),
so a patch can reach neither. Usage: python3 opsguard_runner.py NONCE SCRIPT

The outcome is one line on the original stderr, written last and through a file descriptor
duplicated before the script runs (so replacing sys.stderr cannot hide it):
    OPSGUARD-OUTCOME <nonce> {"ran_to_end": ..., "exception": {...} | null, "exit_code": ...}
The nonce is per run and removed from sys.argv before the script starts. The process always ends
through os._exit captured here, so atexit hooks planted by a patch cannot change the exit code.
A process that ends without this line (os._exit, a crash, a kill) did not run to its end.
"""
import json
import os
import runpy
import sys
import traceback

_exit = os._exit
_write = os.write
_dumps = json.dumps
_fd = os.dup(2)
_BaseException = BaseException
_SystemExit = SystemExit
_type = type


def _from_script(tb):
    """The traceback from the script's first frame on: the runner's own frames are noise."""
    t = tb
    while t is not None and t.tb_frame.f_code.co_filename != SCRIPT:
        t = t.tb_next
    return t if t is not None else tb


def _describe(exc):
    tb = traceback.extract_tb(_from_script(exc.__traceback__))
    return {
        "type": _type(exc).__name__,
        "qualified_type": f"{_type(exc).__module__}.{_type(exc).__qualname__}",
        "mro": [c.__name__ for c in _type(exc).__mro__],
        "message": str(exc)[:2000],
        "frames": [{"file": f.filename, "line": f.lineno, "func": f.name} for f in tb][-50:],
    }


def _report(outcome, code):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except _BaseException:
        pass
    _write(_fd, ("\nOPSGUARD-OUTCOME " + NONCE + " " + _dumps(outcome) + "\n").encode())
    _exit(code)


NONCE = sys.argv[1]
SCRIPT = sys.argv[2]
sys.argv = [SCRIPT]
sys.path.insert(0, os.getcwd())

try:
    runpy.run_path(SCRIPT, run_name="__main__")
except _SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # sys.exit() anywhere (in the script or in repository code) ends the script early.
    _report({"ran_to_end": False, "exception": _describe(exc), "exit_code": code}, code)
except _BaseException as exc:
    traceback.print_exception(_type(exc), exc, _from_script(exc.__traceback__))
    _report({"ran_to_end": False, "exception": _describe(exc), "exit_code": 1}, 1)
_report({"ran_to_end": True, "exception": None, "exit_code": 0}, 0)
