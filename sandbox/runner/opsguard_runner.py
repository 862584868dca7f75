"""OpsGuard's reproduction runner: runs one pinned reproduction script and signs what happened.

Started by the host as `python3 -I /opsguard/runner/opsguard_runner.py` (isolated mode: neither
PYTHONPATH nor files in the workspace can shadow these modules). Everything else comes from the run's
spec (/opsguard/spec.json) and key (stdin); see opsguard_guard.py for how the verdict is protected.

The signed end record says whether the script ran to its end and the exit code (decided by this
frame's own control flow), and carries the details the gates use: the exception with its base classes
and traceback frames, the check that failed when it is an assertion in the script, the repository
functions the run executed, and which changed statements it executed (coverage.py).
"""
import sys

# -I implies -P in 3.11: our own folder (a read-only mount) is not on sys.path until we put it there.
sys.path.insert(0, __file__.rpartition("/")[0])


def main():
    import os
    import resource
    import types

    import traceback

    import opsguard_compare
    import opsguard_guard
    import opsguard_source

    try:
        guarded = opsguard_guard.start()
    except opsguard_guard.GuardError as err:
        sys.stderr.write(f"opsguard runner: {err}\n")
        os._exit(2)
    spec = guarded.spec
    script = spec["script"]
    workspace = spec["workspace"]
    normalise = guarded.normalise

    # Everything about the script and the changed files is read before any of them runs.
    script_tree = opsguard_source.parse(script)
    script_checks = opsguard_source.checks(script_tree)
    changed_lines = spec.get("changed_lines", {})
    changed_statements = {}
    for path, lines in changed_lines.items():
        starts = opsguard_source.statement_starts(opsguard_source.parse(path))
        changed_statements[path] = (starts, sorted({starts[line] for line in lines if line in starts}))
    with open(script, "rb") as f:
        source = f.read()
    compile_error = None
    # With a patch applied (gate 2), the script's comparisons refuse a value that equals everything.
    checked = bool(spec.get("changed_files"))
    try:
        code = opsguard_compare.instrument(source, script) if checked else compile(source, script, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        code, compile_error = None, err

    cov = None
    if spec.get("coverage", True):
        try:
            import coverage

            # config_file=False: the repository's .coveragerc/setup.cfg/pyproject are not ours to obey.
            cov = coverage.Coverage(data_file=None, config_file=False, source=[workspace], branch=False)
        except Exception as err:  # coverage.py missing from the image: the gates say what did not run
            guarded.data("note", {"coverage": f"unavailable: {type(err).__name__}: {err}"})

    # A hang incident: the script is stopped after this long, where it is, and the runner signs that.
    hang_after = spec.get("hang_after_seconds")
    hang_watch = _HangWatch(float(hang_after), guarded.inside_hook) if hang_after else None

    limit = spec.get("memory_limit_bytes")
    if limit:
        # A memory bomb raises MemoryError here instead of getting the whole container OOM-killed.
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    opsguard_guard.install_paths(spec)
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = __builtins__
    if checked:
        setattr(module, opsguard_compare.CHECKER, opsguard_compare.checker())
    sys.modules["__main__"] = module
    sys.argv = [script]
    for name in ("opsguard_guard", "opsguard_source", "opsguard_compare"):
        sys.modules.pop(name, None)

    # Bound now, used after the code under test ran: it may rewrite module globals, never these.
    signer = guarded.signer
    end_module_watch = guarded.end_module_watch
    base_exception, system_exit, int_type, str_type, type_ = BaseException, SystemExit, int, str, type
    stderr_write = sys.__stderr__.write
    flushes = (sys.__stdout__.flush, sys.__stderr__.flush)
    describe = _describer(normalise, traceback.format_exception)
    source_module = opsguard_source
    signer.send(None)  # the signer now knows this frame; from here on, code under test runs

    if cov is not None:
        cov.start()
    ran_to_end, exit_code, exception = False, 1, None
    try:
        if code is None:
            raise compile_error
        if hang_watch is not None:
            hang_watch.arm()
        exec(code, module.__dict__)
    except system_exit as exc:
        status = exc.code
        exit_code = status if type_(status) is int_type else (0 if status is None else 1)
        exception = exc
    except base_exception as exc:
        exit_code = 1
        exception = exc
    else:
        ran_to_end, exit_code = True, 0
    end_module_watch()
    hung = False
    if hang_watch is not None:
        hang_watch.disarm()
        hung = hang_watch.stopped(exception)
    if cov is not None:
        try:
            cov.stop()
        except base_exception:
            pass

    details = {"exception": None, "coverage": None}
    if hung:
        details["hang"] = {"after_seconds": hang_watch.seconds}
    try:
        if exception is not None:
            details["exception"] = described = describe(exception)
            stderr_write(described.pop("text"))
            failing_script_line = next(
                (f["line"] for f in reversed(described["frames"]) if f["file"] == script), None
            )
            check = script_checks.get(failing_script_line) if failing_script_line else None
            if check is not None:
                check = {k: check[k] for k in ("kind", "trivial", "line")} | {
                    "uses_repository": _from_workspace(check["modules"], workspace, normalise)
                }
            details["exception"]["script_check"] = check
        if cov is not None:
            details["coverage"] = _coverage_details(cov, workspace, changed_statements, normalise, source_module)
    except base_exception as err:
        details["details_error"] = f"{type_(err).__name__}"
    try:
        body = guarded.encode(details).encode("utf-8", "replace")
    except base_exception:
        body = b"null"
    for flush in flushes:
        try:
            flush()
        except base_exception:
            pass
    signer.send((b"outcome", ran_to_end, exit_code if type_(exit_code) is int_type else 1, body))
    os._exit(88)  # unreachable: the signer ends the process; reaching here means it refused this frame


class OpsGuardHang(BaseException):
    """Raised by the runner's hang watch in a script still running after its time (BaseException, so
    `except Exception` in the code under test cannot keep it)."""


class _HangWatch:
    """SIGALRM after `seconds` raises OpsGuardHang wherever the main thread is, so the traceback says
    where the program was stuck; it fires again every second while the code under test swallows it.
    Only a real timer signal, after the time has passed, counts: the handler ignores an early or direct
    call, and `stopped` checks the exception is this class and that the watch fired."""

    def __init__(self, seconds, inside_hook):
        import signal
        import time

        self.seconds = seconds
        self.fired = False
        self._inside_hook = inside_hook
        self._signal, self._monotonic, self._setitimer = signal, time.monotonic, signal.setitimer
        self._started = None
        self._type, self._hang = type, OpsGuardHang  # bound before the code under test runs

    def arm(self):
        self._signal.signal(self._signal.SIGALRM, self._on_alarm)
        self._started = self._monotonic()
        self._setitimer(self._signal.ITIMER_REAL, self.seconds, 1.0)

    def disarm(self):
        try:
            self._setitimer(self._signal.ITIMER_REAL, 0)
        except BaseException:
            pass

    def _on_alarm(self, signum, frame):
        if self._started is None or frame is None or self._monotonic() - self._started < self.seconds - 0.05:
            return
        if self._inside_hook():
            self._setitimer(self._signal.ITIMER_REAL, 0.01, 1.0)  # not inside the guard's hook: shortly
            return
        self.fired = True
        raise self._hang(f"still running after {self.seconds:g} s: stopped by OpsGuard's hang watch")

    def stopped(self, exception):
        return self.fired is True and self._type(exception) is self._hang


def _describer(normalise, format_exception):
    """Describe an exception from the C-level traceback objects. The traceback module only formats the
    text for people; what the gates read comes from tb_frame / f_code directly."""
    type_, str_, int_, issubclass_, getattr_, syntax_error = type, str, int, issubclass, getattr, SyntaxError

    def describe(exc):
        t = type_(exc)
        try:
            message = str_(exc)[:2000]
        except BaseException:
            message = "(the exception's __str__ raised)"
        # The runner's own frames come first: start at the first frame that is not ours.
        tb = exc.__traceback__
        while tb is not None and normalise(tb.tb_frame.f_code.co_filename).startswith("/opsguard/runner/"):
            tb = tb.tb_next
        frames = []
        walk = tb
        while walk is not None:
            code = walk.tb_frame.f_code
            frames.append({"file": code.co_filename, "line": walk.tb_lineno, "func": code.co_name})
            walk = walk.tb_next
        # The hang watch's own frame ends a hang's traceback: where the program was is the one before.
        while frames and normalise(frames[-1]["file"]).startswith("/opsguard/runner/"):
            frames.pop()
        # Code that does not compile has no frame of its own: its file and line are the innermost place,
        # as Python prints them (`File "…", line 4` under the import that compiled it).
        if issubclass_(t, syntax_error):
            filename, lineno = getattr_(exc, "filename", None), getattr_(exc, "lineno", None)
            if type_(filename) is str_ and filename.startswith("/"):
                frames.append({"file": filename, "line": lineno if type_(lineno) is int_ else 0, "func": "<module>"})
        frames = frames[-50:]
        try:
            text = "".join(format_exception(t, exc, tb))
        except BaseException:
            text = "".join(f'  File "{f["file"]}", line {f["line"]}, in {f["func"]}\n' for f in frames)
            text = f"Traceback (most recent call last):\n{text}{t.__name__}: {message}\n"
        return {
            "type": t.__name__,
            "qualified_type": f"{t.__module__}.{t.__qualname__}",
            "mro": [c.__name__ for c in t.__mro__],
            "message": message,
            "frames": frames,
            "text": text,
        }

    return describe


def _from_workspace(modules, workspace, normalise):
    """True when one of these modules (the ones a check's values were imported from) is the
    repository's own: its file is in the workspace."""
    prefix = workspace.rstrip("/") + "/"
    for name in modules:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) if module is not None else None
        if isinstance(file, str) and normalise(file).startswith(prefix) and "/site-packages/" not in file:
            return True
    return False


def _coverage_details(cov, workspace, changed_statements, normalise, source):
    """Which changed statements ran, and which repository functions' bodies ran."""
    data = cov.get_data()
    executed = {}
    for measured in data.measured_files():
        path = normalise(measured)
        executed.setdefault(path, set()).update(data.lines(measured) or [])
    changed = {}
    for path, (starts, statements) in changed_statements.items():
        ran = {starts.get(line) for line in executed.get(path, ())}
        changed[path] = {"statements": statements, "executed": sorted(s for s in statements if s in ran)}
    functions = []
    for path in sorted(executed)[:200]:
        if not path.startswith(workspace.rstrip("/") + "/"):
            continue
        for name in source.functions_executed(source.parse(path), executed[path]):
            functions.append(f"{path}:{name}")
    return {"changed": changed, "functions": functions[:200], "files": len(executed)}


if __name__ == "__main__":
    main()
