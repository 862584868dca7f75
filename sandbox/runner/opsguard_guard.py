"""OpsGuard's guard: how a sandbox run proves what happened in it, to a host that trusts nothing in it.

Both entry points (opsguard_runner.py for reproductions, opsguard_tests.py for the repository's tests)
call start() first, before any code of the repository or of the reproduction runs. The code under test
shares this process, so the guard assumes it can do anything plain Python can do: walk frames (a signal
handler receives one, with no audit event), rewrite closure cells, monkeypatch modules, write to any file
descriptor. Against that:

1. The run key. The host writes a fresh random key on the container's stdin. start() reads it, copies
   it into memory from libc's malloc (no Python object refers to it; only its address, an int, is kept)
   and points fd 0 at /dev/null. The key is in no argv, environment variable, file or Python object.
   Reading it back takes ctypes or /proc/self/mem, both of which the tripwire watches.

2. The signer: a generator primed by the entry point's own main frame, before the code under test runs.
   Everything it uses (the key's address, the C functions it calls, the main frame itself) sits in its
   fast locals, which nothing outside can rewrite. When resumed it blocks every signal, checks that the
   caller *is* that main frame (object identity, not a name), reads the key, signs the entry point's
   verdict (HMAC-SHA256) together with a digest of every record written before it, writes the signed
   end record and ends the process with os._exit: no atexit hook, thread or finalizer can follow it.
   Only the main frame reaches that point, and only after the code under test has returned or raised.

3. The tripwire: a PEP 578 audit hook (it cannot be removed from Python). It records introspection
   events (getting frames or code objects, gc's object lists, tracing, ctypes, /proc/self, starting
   processes, ...) with the file they came from. When that file is one the patch changed, or the
   reproduction script itself, it writes a tripwire record and ends the process at once, before the
   operation returns anything. Events from unchanged code are written as notes. The exit code then
   says what happened even if the record was lost (TRIPWIRE_EXIT).

Records go to /opsguard/records, a single host file mounted writable (the directory is not):
    D<TAB>kind<TAB>json            data written during the run (unsigned: notes, per-test results)
    E<TAB>kind<TAB>mac<TAB>header<TAB>details   the signed end record, exactly one per genuine run
The host accepts a verdict only from a valid E record; D records count only where the E record's
digest covers them.
"""
import _json
import _thread
import ctypes
import gc
import hashlib
import json
import os
import signal
import sys

KEY_BYTES = 32
TRIPWIRE_EXIT = 86
GUARD_ERROR_EXIT = 87
RECORDS_PATH = "/opsguard/records"
SPEC_PATH = "/opsguard/spec.json"
RUNNER_DIR = "/opsguard/runner/"

# Events whose stdlib callers are routine (namedtuple, logging, warnings, traceback, importlib): they
# are attributed to the *immediate* caller, so only code that asks for a frame or code object itself
# (or through a stdlib helper that hands it back, see LEAKING_HELPERS) trips the wire.
FRAME_EVENTS = frozenset({"sys._getframe", "marshal.loads", "marshal.load", "function.__new__"})
FRAME_ATTRS = frozenset(
    {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_code", "__code__", "gi_code", "cr_code", "ag_code"}
)
# Events nothing in the standard library raises on an application's behalf: attributed to the first
# frame outside the standard library, and to any changed file further out when that frame is
# unchanged repository code (a trampoline).
ALWAYS_EVENTS = frozenset(
    {
        "sys._current_frames",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "pty.spawn",
        "os.kill",
        "signal.pthread_kill",
    }
)
SETATTR_WATCHED = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "os.symlink", "os.link"})
# At most this many distinct files a run records having read (activities/test-data.ts).
READS_RECORDED = 500
# At most this many of the repository's Python modules a run records having loaded (activities/test-support.ts).
MODULES_RECORDED = 3000
SENSITIVE_PREFIXES = ("/proc/", "/dev/fd/", "/dev/stdin", "/dev/stdout", "/dev/stderr")
# Standard-library functions whose purpose is to hand a frame or code object to their caller.
LEAKING_HELPERS = frozenset(
    {
        ("inspect.py", "currentframe"),
        ("inspect.py", "stack"),
        ("inspect.py", "trace"),
        ("inspect.py", "getouterframes"),
        ("inspect.py", "getinnerframes"),
        ("inspect.py", "getgeneratorlocals"),
        ("inspect.py", "getcoroutinelocals"),
        ("traceback.py", "walk_stack"),
        ("traceback.py", "walk_tb"),
        ("__init__.py", "<lambda>"),  # logging.currentframe
        ("dis.py", "_get_code_object"),
        ("dis.py", "__init__"),  # dis.Bytecode keeps .codeobj
    }
)


class GuardError(Exception):
    """The run cannot be guarded (no key on stdin, a malformed spec): nothing is run."""


def _read_key():
    """The run key from stdin (64 hex digits and a newline), moved into malloc'd memory."""
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < 256:
        chunk = os.read(0, 256 - len(buf))
        if not chunk:
            break
        buf += chunk
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        key = bytes.fromhex(buf.strip().decode("ascii"))
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise GuardError("no run key on stdin: this runner is started by OpsGuard's sandbox, not by hand")
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    address = libc.malloc(KEY_BYTES)
    ctypes.memmove(address, key, KEY_BYTES)
    return address


def _encoder():
    """A JSON encoder for the guard's own records: C functions only, no module globals at call time."""
    quote = _json.encode_basestring_ascii
    int_repr, float_repr = int.__repr__, float.__repr__
    str_type, int_type, bool_type, float_type = str, int, bool, float
    list_type, tuple_type, dict_type = list, tuple, dict
    type_, isinstance_ = type, isinstance
    join = ",".join

    def encode(value, _depth=0):
        t = type_(value)
        if value is None:
            return "null"
        if t is bool_type:
            return "true" if value else "false"
        if t is int_type:
            return int_repr(value)
        if t is float_type:
            return float_repr(value) if value == value and value not in (1e999, -1e999) else "null"
        if isinstance_(value, str_type):
            return quote(value)
        if _depth > 8:
            return '"(nested too deep)"'
        if t is list_type or t is tuple_type:
            return "[" + join([encode(v, _depth + 1) for v in value]) + "]"
        if t is dict_type:
            return "{" + join([quote(k) + ":" + encode(v, _depth + 1) for k, v in value.items()]) + "}"
        return quote("(" + t.__name__ + ")")

    return encode


def _signer(key_address, records_fd, read_fd, main_tid, caps):
    """The only code that ever reads the key. Primed by the entry point's main frame; see the module doc.

    Resumed with (kind, ran_to_end, exit_code, details): kind is b'outcome' or b'tests', details the
    entry point's JSON bytes. Everything it relies on is in its fast locals, bound before the code under
    test ran, and every call it makes is to a C function; a caller other than the priming frame is
    refused and the generator waits on.
    """
    (getframe, get_ident, sigmask, block, setmask, all_signals, string_at, hmac_digest, sha256, fstat, pread,
     write, exit_, gc_disable, type_, bytes_type, int_type, tuple_type, int_repr, str_encode, bytes_len,
     tuple_len) = caps
    main_frame = getframe(1)
    request = yield
    while True:
        old_mask = sigmask(block, all_signals)
        if (
            getframe(1) is not main_frame
            or get_ident() != main_tid
            or type_(request) is not tuple_type
            or tuple_len(request) != 4
        ):
            sigmask(setmask, old_mask)
            request = yield False
            continue
        gc_disable()
        kind, ran_to_end, exit_code, details = request
        if type_(kind) is not bytes_type or type_(details) is not bytes_type or type_(exit_code) is not int_type:
            kind, details, exit_code = b"guard-error", b"null", 87
        before = pread(read_fd, fstat(read_fd).st_size, 0)
        header = (
            b'{"ran_to_end":' + (b"true" if ran_to_end is True else b"false")
            + b',"exit_code":' + str_encode(int_repr(exit_code), "ascii")
            + b',"records_bytes":' + str_encode(int_repr(bytes_len(before)), "ascii")
            + b',"records_sha256":"' + str_encode(sha256(before).hexdigest(), "ascii") + b'"}'
        )
        key = string_at(key_address, 32)
        mac = str_encode(hmac_digest(key, kind + b"\t" + header + b"\t" + details, "sha256").hex(), "ascii")
        key = None
        write(records_fd, b"E\t" + kind + b"\t" + mac + b"\t" + header + b"\t" + details + b"\n")
        exit_(exit_code)


def _classifier(spec):
    """Which kind of code a frame's file is: suspect (changed by the patch, or Python from anywhere
    OpsGuard does not know), script (a reproduction), workspace (unchanged repository code), stdlib,
    thirdparty, runner (ours), or generated (<string> and the like: transparent).

    Every name it uses at call time is a closure variable: module globals are reachable (and
    writable) through any function of this module, closures of the hook only through gc.
    """
    workspace = spec["workspace"].rstrip("/") + "/"
    changed = frozenset(spec.get("changed_files", []))
    scripts = frozenset(spec.get("scripts", []))
    stdlib_dirs = (os.path.normpath(os.path.dirname(os.__file__)) + "/",)
    thirdparty_dirs = tuple(d.rstrip("/") + "/" for d in spec.get("thirdparty_dirs", []))
    runner_dir = RUNNER_DIR
    split, join, startswith, find = str.split, str.join, str.startswith, str.find
    str_type, type_, len_ = str, type, len
    cache = {}

    def normalise(path):
        out = []
        for part in split(path, "/"):
            if part == "" or part == ".":
                continue
            if part == "..":
                if out:
                    out.pop()
                continue
            out.append(part)
        return "/" + join("/", out)

    def classify(filename):
        if type_(filename) is not str_type:
            return "suspect", "?"
        hit = cache.get(filename)
        if hit is not None:
            return hit
        if startswith(filename, "<"):
            result = ("stdlib" if startswith(filename, "<frozen ") else "generated"), filename
        elif not startswith(filename, "/"):
            result = "suspect", filename
        else:
            path = normalise(filename)
            if path in changed:
                result = "suspect", path
            elif path in scripts:
                result = "script", path
            elif startswith(path, runner_dir):
                result = "runner", path
            elif find(path, "/site-packages/") >= 0 or find(path, "/dist-packages/") >= 0:
                result = "thirdparty", path
            elif thirdparty_dirs and startswith(path, thirdparty_dirs):
                result = "thirdparty", path
            elif startswith(path, workspace):
                result = "workspace", path
            elif startswith(path, stdlib_dirs):
                result = "stdlib", path
            else:
                result = "suspect", path
        if len_(cache) < 20000:
            cache[filename] = result
        return result

    return classify, normalise


def _install_tripwire(spec, records_fd):
    """Install the audit hook. Its state and helpers live in closures that only gc (watched) reaches."""
    classify, normalise = _classifier(spec)
    encode = _encoder()
    getframe = sys._getframe
    get_ident = _thread.get_ident
    write, exit_, getcwd = os.write, os._exit, os.getcwd
    type_, str_type, bytes_type, int_type = type, str, bytes, int
    len_, isinstance_ = len, isinstance
    startswith, decode, rpartition, str_encode = str.startswith, bytes.decode, str.rpartition, str.encode
    frame_events, frame_attrs, always_events = FRAME_EVENTS, FRAME_ATTRS, ALWAYS_EVENTS
    setattr_watched, path_events, leaking_helpers = SETATTR_WATCHED, PATH_EVENTS, LEAKING_HELPERS
    sensitive_prefixes, records_path, tripwire_exit, guard_error_exit = (
        SENSITIVE_PREFIXES, RECORDS_PATH, TRIPWIRE_EXIT, GUARD_ERROR_EXIT)
    base_exception = BaseException
    has_changes = bool(spec.get("changed_files"))
    # The tripwire's rules are checked against 3.11's and 3.13's audit events (test/guarded-run.test.ts).
    # Older interpreters raise fewer of them (3.9: no gc.* or frame-attribute events) and some from
    # ordinary code (code.__new__ at import): there it only notes, and the run says the tripwire was
    # not enforced, so the proof reports that check as not run rather than passed.
    enforced = sys.version_info >= (3, 11)
    inside = set()
    noted = set()
    notes_left = [50]

    def record(kind, fields):
        write(records_fd, str_encode("D\t" + kind + "\t" + encode(fields) + "\n", "utf-8", "replace"))

    if not enforced:
        record("note", {"tripwire": "not enforced: Python %d.%d raises too few audit events" % sys.version_info[:2]})

    # Which of the repository's files other than Python source the run read (its data: fixtures, JSON
    # cases, configuration), once each: the test data check compares the tests' reads with the
    # reproduction's (activities/test-data.ts). Observation only, never a verdict.
    reads = set()
    reads_left = [READS_RECORDED]
    endswith = str.endswith
    # Which of the repository's Python modules the run loaded (the import system opens each source or
    # cached .pyc once, for reading): the test support check compares the tests' modules with the
    # reproduction's (activities/test-support.ts). Observation only, never a verdict. Watched while
    # the code under test runs: the entry point ends the watch before its own analysis reads sources
    # (coverage's files, tracebacks), which an audit event cannot tell from an import.
    modules = set()
    modules_left = [MODULES_RECORDED]
    partition = str.partition

    def end_module_watch():
        modules_left[0] = 0

    def note_module(path):
        if modules_left[0] <= 0:
            return
        if endswith(path, ".pyc"):
            head, _, name = rpartition(path, "/")
            if endswith(head, "/__pycache__"):
                head = rpartition(head, "/")[0]
            path = head + "/" + partition(name, ".")[0] + ".py"
        if not startswith(path, "/workspace/") or path in modules or "/site-packages/" in path or modules_left[0] <= 0:
            return
        modules.add(path)
        modules_left[0] -= 1
        record("module", {"path": path})

    def note_read(target, mode, flags):
        if isinstance_(target, bytes_type):
            target = decode(target, "utf-8", "replace")
        if not isinstance_(target, str_type):
            return
        if endswith(target, (".py", ".pyc")):
            reading = mode == "r" or mode == "rb" if type_(mode) is str_type else type_(flags) is int_type and not flags & 3
            if reading:
                note_module(normalise(target if startswith(target, "/") else getcwd() + "/" + target))
            return
        if type_(mode) is str_type:
            if "w" in mode or "a" in mode or "x" in mode or "+" in mode:
                return
        elif type_(flags) is int_type and flags & 3:
            return  # os.open for writing
        path = normalise(target if startswith(target, "/") else getcwd() + "/" + target)
        if not startswith(path, "/workspace/") or path in reads or "/site-packages/" in path or reads_left[0] <= 0:
            return
        reads.add(path)
        reads_left[0] -= 1
        record("read", {"path": path})

    def frame_info(frame):
        code = frame.f_code
        return code.co_filename, code.co_name, frame.f_lineno

    def sensitive_path(value):
        if type_(value) is int_type:
            return "the records descriptor" if value == records_fd else None
        if isinstance_(value, bytes_type):
            value = decode(value, "utf-8", "replace")
        if not isinstance_(value, str_type):
            return "a path object OpsGuard cannot read safely"
        path = normalise(value if startswith(value, "/") else getcwd() + "/" + value)
        if startswith(path + "/", sensitive_prefixes) or path == "/proc" or path == "/dev/fd" or path == records_path:
            return path
        return None

    def fatal(event, detail, kind, path, func, line, how):
        if not enforced:
            note(event, detail, path, func, line)
            return
        record("tripwire", {"event": event, "detail": detail, "kind": kind, "file": path, "func": func,
                            "line": line, "how": how, "fatal": True})
        exit_(tripwire_exit)

    def note(event, detail, path, func, line):
        key = (event, detail if type_(detail) is str_type else "", path, line)
        if key in noted or notes_left[0] <= 0:
            return
        noted.add(key)
        notes_left[0] -= 1
        record("tripwire", {"event": event, "detail": detail, "kind": "workspace", "file": path, "func": func,
                            "line": line, "fatal": False})

    def decide(event, detail, mode):
        frame = getframe(2)  # 0: decide, 1: the hook, 2: whoever raised the event
        if mode == "frame":
            # The immediate caller answers for it, unless that is a stdlib helper that hands the frame
            # or code object back (then its caller does) or generated code (<string>: transparent).
            while frame is not None:
                filename, name, _ = frame_info(frame)
                kind, _path = classify(filename)
                if kind == "generated" or (
                    kind == "stdlib" and (rpartition(filename, "/")[2], name) in leaking_helpers
                ):
                    frame = frame.f_back
                    continue
                break
            if frame is None:
                return
            filename, name, line = frame_info(frame)
            kind, path = classify(filename)
            if kind == "suspect" or kind == "script":
                fatal(event, detail, kind, path, name, line, "it asked for it itself")
            elif kind == "workspace":
                note(event, detail, path, name, line)
            return
        # "always": the first frame outside the standard library answers for it; unchanged repository
        # code there does not excuse a changed file further out (a trampoline).
        first = None
        changed_further_out = None
        walk = frame
        while walk is not None:
            filename, name, line = frame_info(walk)
            kind, path = classify(filename)
            if first is None:
                if kind != "stdlib" and kind != "generated":
                    first = (kind, path, name, line)
            elif kind == "suspect":
                changed_further_out = (path, name, line)
                break
            walk = walk.f_back
        if first is None:
            filename, name, line = frame_info(frame)
            if (event == "sys.settrace" or event == "sys.setprofile") and name == "_bootstrap_inner":
                return  # threading.settrace applied to a new thread (coverage.py's thread support)
            if has_changes:
                fatal(event, detail, "orphan", filename, name, line,
                      "from a thread with no application code on its stack")
            return
        kind, path, name, line = first
        if kind == "suspect" or kind == "script":
            fatal(event, detail, kind, path, name, line, "it asked for it itself")
        elif kind == "workspace":
            if changed_further_out is not None:
                cpath, cname, cline = changed_further_out
                fatal(event, detail, "suspect", cpath, cname, cline,
                      "through unchanged repository code in " + path + ":" + name)
            note(event, detail, path, name, line)

    def hook(event, args):
        if type_(event) is not str_type:
            return
        if event in frame_events:
            mode, detail = "frame", None
        elif event == "object.__getattr__":
            name = args[1] if len_(args) > 1 else None
            if type_(name) is not str_type or name not in frame_attrs:
                return
            mode, detail = "frame", name
        elif event in always_events or startswith(event, "ctypes."):
            mode, detail = "always", None
        elif event == "object.__setattr__":
            name = args[1] if len_(args) > 1 else None
            if type_(name) is not str_type or name not in setattr_watched:
                return
            mode, detail = "always", name
        elif event in path_events:
            if event == "open" and len_(args) > 2:
                try:
                    note_read(args[0], args[1], args[2])
                except base_exception:
                    pass
            detail = sensitive_path(args[0]) if len_(args) > 0 else None
            if not detail:
                return
            mode = "always"
        elif event == "compile":
            target = args[1] if len_(args) > 1 else None
            if isinstance_(target, bytes_type):
                target = decode(target, "utf-8", "replace")
            if not isinstance_(target, str_type):
                return
            if not startswith(normalise(target) if startswith(target, "/") else target, "/opsguard/"):
                return
            mode, detail = "always", "code claiming to be " + target
        elif event == "os.truncate":
            if len_(args) == 0 or type_(args[0]) is not int_type or args[0] != records_fd:
                return
            mode, detail = "always", "the records descriptor"
        else:
            return
        tid = get_ident()
        if tid in inside:
            return  # raised by our own frame walk (reading f_code raises an event too)
        inside.add(tid)
        try:
            decide(event, detail, mode)
        except base_exception:
            # A guard that cannot decide fails closed.
            try:
                record("guard-error", {"event": event})
            finally:
                exit_(guard_error_exit)
        finally:
            inside.discard(tid)

    def inside_hook():
        return get_ident() in inside

    sys.addaudithook(hook)
    return inside_hook, end_module_watch


class Guarded:
    """What start() hands to an entry point: the spec, the signer to prime, and a few helpers."""

    def __init__(self, spec, signer, records_fd, encode, inside_hook, normalise, end_module_watch):
        self.spec = spec
        self.signer = signer
        self.records_fd = records_fd
        self.encode = encode
        self.inside_hook = inside_hook
        # Called by the entry point when the code under test has ended: modules loaded after are not its.
        self.end_module_watch = end_module_watch
        self.normalise = normalise

    def data(self, kind, fields):
        """Write an unsigned data record (a per-test result, a note)."""
        os.write(self.records_fd, ("D\t" + kind + "\t" + self.encode(fields) + "\n").encode("utf-8", "replace"))


def start(spec_path=SPEC_PATH):
    """Read the key and the spec, open the records file, install the tripwire, build the signer.

    The caller must prime the signer itself (`guarded.signer.send(None)`) in its main function before
    running any code under test: the signer remembers the frame that primed it.
    """
    key_address = _read_key()
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    records = spec.get("records", RECORDS_PATH)
    records_fd = os.open(records, os.O_WRONLY | os.O_APPEND)
    read_fd = os.open(records, os.O_RDONLY)
    inside_hook, end_module_watch = _install_tripwire(spec, records_fd)
    caps = (
        sys._getframe,
        _thread.get_ident,
        signal.pthread_sigmask,
        signal.SIG_BLOCK,
        signal.SIG_SETMASK,
        frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP},
        ctypes._string_at,  # the C function itself: ctypes.string_at looks it up in a module global
        __import__("_hashlib").hmac_digest,
        hashlib.sha256,
        os.fstat,
        os.pread,
        os.write,
        os._exit,
        gc.disable,
        type,
        bytes,
        int,
        tuple,
        int.__repr__,
        str.encode,
        bytes.__len__,
        tuple.__len__,
    )
    signer = _signer(key_address, records_fd, read_fd, _thread.get_ident(), caps)
    _, normalise = _classifier(spec)
    return Guarded(spec, signer, records_fd, _encoder(), inside_hook, normalise, end_module_watch)


def install_paths(spec):
    """Imports as in production: the repository's own folders first (the spec's sys_path: the root,
    src/ or the profile's python-paths), then the prepared dependencies (a flat `pip install --target`
    folder, mounted read-only at spec["deps_dir"], with its .pth files processed), then the
    interpreter's own paths. Called after start(): a .pth line that imports runs under the tripwire."""
    front = list(spec.get("sys_path", [spec["workspace"]]))
    deps = spec.get("deps_dir")
    if deps:
        import site

        before = set(sys.path)
        site.addsitedir(deps)
        added = [p for p in sys.path if p not in before]
        for p in added:
            sys.path.remove(p)
        front += added
    for p in reversed(front):
        sys.path.insert(0, p)
