"""OpsGuard's test launcher: the repository's pytest suite under the guard.

Started by the host as `python3 -I -u -B /opsguard/runner/opsguard_tests.py`; the spec
(/opsguard/spec.json) gives pytest's arguments, the per-test deadline and the files a patch changed.
Per-test results are written as each test ends (opsguard_pytest.py); the signed end record then says
pytest returned (ran_to_end) with its exit status, covers every record written before it, and lists
which tests executed a changed statement. The process ends through the signer's os._exit, so nothing
(an atexit hook, a thread) can write after it.
"""
import sys

sys.path.insert(0, __file__.rpartition("/")[0])


def main():
    import os
    import resource

    import opsguard_guard
    import opsguard_source

    try:
        guarded = opsguard_guard.start()
    except opsguard_guard.GuardError as err:
        sys.stderr.write(f"opsguard tests: {err}\n")
        os._exit(2)
    spec = guarded.spec
    workspace = spec["workspace"]
    import opsguard_pytest
    import pytest

    changed_lines = spec.get("changed_lines", {})
    changed_statements = {}
    for path, lines in changed_lines.items():
        starts = opsguard_source.statement_starts(opsguard_source.parse(path))
        changed_statements[path] = (starts, {starts[line] for line in lines if line in starts})
    cov = None
    if changed_statements:
        try:
            import coverage

            cov = coverage.Coverage(
                data_file=None, config_file=False, include=list(changed_statements), branch=False
            )
        except Exception as err:
            guarded.data("note", {"coverage": f"unavailable: {type(err).__name__}: {err}"})

    plugin = opsguard_pytest.OpsGuardPlugin(guarded, float(spec.get("per_test_seconds", 60)), cov)
    opsguard_pytest.install_deadline(plugin)
    limit = spec.get("memory_limit_bytes")
    if limit:
        # One test that eats memory fails alone with MemoryError instead of the container being OOM-killed.
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    opsguard_guard.install_paths(spec)
    args = ["-q", "-p", "no:cacheprovider", "--color=no", "--continue-on-collection-errors", "--rootdir", workspace] + list(spec.get("pytest_args", []))
    # Plugins a repository's addopts may switch on that would take the run away from this process:
    # pytest-cov's tracer would replace the one measuring the patch, xdist's workers would write no
    # records here. Installed (so their options parse), they are turned off for the guarded run.
    import importlib.util

    if importlib.util.find_spec("pytest_cov") is not None:
        args.append("--no-cov")
    if importlib.util.find_spec("xdist") is not None:
        args += ["-n", "0"]
    for name in ("opsguard_guard", "opsguard_source"):
        sys.modules.pop(name, None)

    signer = guarded.signer
    end_module_watch = guarded.end_module_watch
    base_exception, int_ = BaseException, int
    flushes = (sys.__stdout__.flush, sys.__stderr__.flush)
    signer.send(None)  # the signer now knows this frame; from here on, the repository's code runs

    if cov is not None:
        cov.start()
    ran_to_end, status = False, 3
    try:
        status = int_(pytest.main(args, plugins=[plugin]))
        ran_to_end = True
    except base_exception as exc:
        sys.__stderr__.write(f"opsguard tests: pytest did not return: {type(exc).__name__}: {exc}\n")
    end_module_watch()
    details = {"collected": plugin.collected, "collect_errors": plugin.collect_errors, "changed_hit": None}
    try:
        if cov is not None:
            cov.stop()
            details["changed_hit"] = _tests_hitting(cov, changed_statements)
    except base_exception as err:
        details["details_error"] = type(err).__name__
    try:
        body = guarded.encode(details).encode("utf-8", "replace")
    except base_exception:
        body = b"null"
    for flush in flushes:
        try:
            flush()
        except base_exception:
            pass
    signer.send((b"tests", ran_to_end, status, body))
    os._exit(88)  # unreachable: the signer ends the process; reaching here means it refused this frame


def _tests_hitting(cov, changed_statements):
    """The tests (coverage contexts) that executed at least one changed statement."""
    data = cov.get_data()
    hit = set()
    for measured in data.measured_files():
        entry = changed_statements.get(measured)
        if entry is None:
            continue
        starts, statements = entry
        for line, contexts in data.contexts_by_lineno(measured).items():
            if starts.get(line) in statements:
                hit.update(c for c in contexts if c)
    return sorted(hit)


if __name__ == "__main__":
    main()
