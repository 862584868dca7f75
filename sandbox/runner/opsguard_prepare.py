"""OpsGuard's dependency preparation: installs a repository's declared packages for this interpreter.

Runs in its own container of the sandbox image the runs will use (same Python, same C library, same
compiler), the only container OpsGuard lets reach a network: the package index. Started as
`python3 -I -u -B /opsguard/runner/opsguard_prepare.py`; reads /opsguard/prepare.json, writes
/out/site (a flat `pip install --target` folder), /out/install.log and /out/result.json.

- setup.py is read with ast, never executed: literal install_requires / tests_require / test extras,
  and module-level names bound to literal lists.
- pytest, pluggy and coverage are pinned to the image's own versions (constraints), so plugins are
  resolved against the pytest that will run them, and the runner's coverage is the one imported.
- Everything is installed in one resolution; when that fails, each requirement alone, so the result
  names exactly which ones cannot be installed here. A pinned requirement (`pkg==1.2`, as freeze
  dumps have) that cannot be installed for this interpreter is tried once more without its pin; the
  result says so (gate 1 still has to reproduce the incident on what was installed).
- The project itself gets a minimal .dist-info (name and version), so code that asks
  importlib.metadata for its own version imports as it does when installed.
"""
import ast
import glob
import json
import os
import subprocess
import sys

SPEC = "/opsguard/prepare.json"
OUT = "/out"
TEST_EXTRA = ("test", "tests", "testing", "dev", "develop", "development", "ci", "pytest", "unit")
PINNED = ("pytest", "pluggy", "coverage", "iniconfig")
# Packages whose source build needs system libraries the sandbox image does not carry, and the
# published build of the same modules (same import name) to use when that build fails.
PREBUILT = {
    "psycopg2": "psycopg2-binary",
}


def normalise(name):
    out, prev = [], False
    for ch in name.lower():
        sep = ch in "-_."
        if sep and not prev:
            out.append("-")
        elif not sep:
            out.append(ch)
        prev = sep
    return "".join(out)


def requirement_name(req):
    name = ""
    for ch in req.strip():
        if ch.isalnum() or ch in "-_.":
            name += ch
        else:
            break
    return normalise(name) if name else None


def setup_py_requirements(path, notes):
    """Literal requirements of setup(...) in a setup.py, by ast (the file is never run)."""
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (SyntaxError, ValueError, OSError) as err:
        notes.append(f"setup.py: could not be parsed ({type(err).__name__}: {err}); its requirements were not read")
        return [], []
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names[node.targets[0].id] = node.value

    def value(node, depth=0):
        if depth > 5:
            raise ValueError("too deep")
        if isinstance(node, ast.Name) and node.id in names:
            return value(names[node.id], depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left, depth + 1) + value(node.right, depth + 1)
        if isinstance(node, ast.Dict):
            return {ast.literal_eval(k): value(v, depth + 1) for k, v in zip(node.keys, node.values)}
        return ast.literal_eval(node)

    runtime, test = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if fname != "setup":
            continue
        for kw in node.keywords:
            if kw.arg not in ("install_requires", "tests_require", "extras_require"):
                continue
            try:
                got = value(kw.value)
            except Exception:
                notes.append(
                    f"setup.py: {kw.arg} is computed, not a literal; it was not read (name the packages in the "
                    "repository profile's packages)"
                )
                continue
            if kw.arg == "extras_require" and isinstance(got, dict):
                for extra, reqs in got.items():
                    if str(extra).split(":")[0].strip().lower() in TEST_EXTRA:
                        test += [r for r in ([reqs] if isinstance(reqs, str) else reqs) if isinstance(r, str)]
            elif isinstance(got, (list, tuple, str)):
                items = got.splitlines() if isinstance(got, str) else got
                (runtime if kw.arg == "install_requires" else test).extend(
                    r.strip() for r in items if isinstance(r, str) and r.strip() and not r.strip().startswith("#")
                )
    return runtime, test


def unpinned(req):
    """`pkg[extra]==1.2 ; marker` without its `==` pin, or None when it has none."""
    body, sep, marker = req.partition(";")
    if "==" not in body:
        return None
    name = body.split("==", 1)[0].strip()
    return name + (" ;" + marker if sep else "")


def write_own_metadata(site_dir, name, version):
    dist = os.path.join(site_dir, "%s-%s.dist-info" % (name.replace("-", "_"), version))
    os.makedirs(dist, exist_ok=True)
    with open(os.path.join(dist, "METADATA"), "w", encoding="utf-8") as f:
        f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    with open(os.path.join(dist, "INSTALLER"), "w", encoding="utf-8") as f:
        f.write("opsguard (the workspace is on sys.path; this only answers importlib.metadata)\n")


def installed(site_dir):
    out = []
    for meta in sorted(glob.glob(os.path.join(site_dir, "*.dist-info", "METADATA"))):
        name = version = None
        with open(meta, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                if name and version or not line.strip():
                    break
        if name:
            out.append({"name": name, "version": version})
    return out


def main():
    with open(SPEC, encoding="utf-8") as f:
        spec = json.load(f)
    notes = list(spec.get("notes", []))
    requirements = list(spec.get("requirements", []))
    if spec.get("setup_py"):
        runtime, test = setup_py_requirements(os.path.join("/workspace", spec["setup_py"]), notes)
        requirements += [{"requirement": r, "from": "setup.py install_requires"} for r in runtime]
        requirements += [{"requirement": r, "from": "setup.py tests_require/extras"} for r in test]
    ignore = {normalise(n) for n in spec.get("ignore", [])}
    project = spec.get("project_name")
    chosen, seen = [], set()
    for r in requirements:
        name = requirement_name(r["requirement"])
        if not name:
            continue
        if name in ignore:
            notes.append(f"{r['from']}: {r['requirement']} ignored (the profile's ignore-packages)")
            continue
        if name in PINNED or (project and name == normalise(project)):
            continue
        if r["requirement"] in seen:
            continue
        seen.add(r["requirement"])
        chosen.append(r)

    from importlib import metadata

    pins = []
    for name in PINNED:
        try:
            pins.append(f"{name}=={metadata.version(name).split('+')[0]}")  # Debian: 1.0.0+repack
        except metadata.PackageNotFoundError:
            pass
    constraints = [c for c in spec.get("constraints", []) if requirement_name(c) not in PINNED and requirement_name(c) not in ignore]
    site_dir = os.path.join(OUT, "site")
    os.makedirs(site_dir, exist_ok=True)
    with open(os.path.join(OUT, "requirements.txt"), "w", encoding="utf-8") as f:
        f.write("".join(r["requirement"] + "\n" for r in chosen))
    with open(os.path.join(OUT, "constraints.txt"), "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in pins + constraints))

    if sys.version_info >= (3, 9) and spec.get("pip_wheel"):
        pip = [sys.executable, os.path.join(spec["pip_wheel"], "pip")]
    else:
        pip = [sys.executable, "-m", "pip"]  # an older user image: its own pip
    base = pip + [
        "install", "--target", site_dir, "--no-input", "--disable-pip-version-check", "--no-warn-script-location",
        "--progress-bar", "off", "--no-cache-dir", "--upgrade", "-c", os.path.join(OUT, "constraints.txt"),
    ]
    result = {
        "python": "%d.%d" % sys.version_info[:2],
        "python_full": sys.version.split()[0],
        "requirements": chosen,
        "pinned": pins,
        "failed": [],
        "notes": notes,
    }
    with open(os.path.join(OUT, "install.log"), "ab") as log:

        def pip_install(args, title):
            log.write(f"\n$ pip install {title}\n".encode())
            log.flush()
            return subprocess.run(base + args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode

        if chosen:
            status = pip_install(["-r", os.path.join(OUT, "requirements.txt")], "-r requirements.txt (everything at once)")
            if status != 0:
                log.write(b"\n# Installing everything at once failed: each requirement alone, to name the ones that cannot be installed.\n")
                for r in chosen:
                    if pip_install([r["requirement"]], r["requirement"]) == 0:
                        continue
                    relaxed = unpinned(r["requirement"])
                    if relaxed and pip_install([relaxed], relaxed + "  (its pin cannot be installed here)") == 0:
                        notes.append(f"{r['from']}: {r['requirement']} cannot be installed for Python "
                                     f"{result['python_full']}; installed {relaxed} instead (the latest that fits)")
                        continue
                    prebuilt = PREBUILT.get(requirement_name(r["requirement"]) or "")
                    if prebuilt and pip_install([prebuilt], prebuilt + "  (the same modules, built; no system library needed)") == 0:
                        notes.append(f"{r['from']}: {r['requirement']} needs system libraries to build here; installed "
                                     f"{prebuilt} instead (the same import name)")
                        continue
                    result["failed"].append(r)
    if project:
        write_own_metadata(site_dir, project, spec.get("project_version") or "0.0.0")
    result["installed"] = [p for p in installed(site_dir) if normalise(p["name"]) != normalise(project or "")]
    with open(os.path.join(OUT, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
