"""What OpsGuard's runners need to know about Python source: which statement a line belongs to, which
function's body it is in, and whether a failing line of a reproduction is a real check.

Used before the code under test runs (the changed files, the reproduction script) and after (the
repository files a run executed), by opsguard_runner.py and opsguard_tests.py.
"""
import ast

# Names whose call is a check when its arguments are not constants (unittest's assert*, pytest.fail
# under a condition, numpy.testing's assert_*).
CHECK_CALL_PREFIXES = ("assert", "fail")


def parse(path):
    """The module's AST, or None when it cannot be read or parsed."""
    try:
        with open(path, "rb") as f:
            return ast.parse(f.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None


def _span(node):
    start = node.lineno
    for d in getattr(node, "decorator_list", []) or []:
        start = min(start, d.lineno)
    return start, getattr(node, "end_lineno", None) or node.lineno


def statement_starts(tree):
    """{line: first line of the innermost statement containing it}, for every line of the module.

    Coverage records the lines where bytecode ran; a change on a continuation line (a default value
    on the second line of a def, a clause of a multi-line condition) counts as executed when the
    statement holding it ran.
    """
    starts = {}

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                first, last = _span(child)
                for line in range(first, last + 1):
                    starts[line] = first
            visit(child)

    if tree is not None:
        visit(tree)
    return starts


def function_bodies(tree):
    """[(first body line, last line, qualified name)] of every function, outermost first."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                out.append((child.body[0].lineno, _span(child)[1], name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    if tree is not None:
        visit(tree, "")
    return out


def functions_executed(tree, lines):
    """Qualified names of the functions whose body ran (a line inside it, not its def line)."""
    bodies = function_bodies(tree)
    names = set()
    for line in lines:
        innermost = None
        for first, last, name in bodies:
            if first <= line <= last and (innermost is None or first >= innermost[0]):
                innermost = (first, name)
        if innermost:
            names.add(innermost[1])
    return sorted(names)


def _bound_names(tree):
    """Names the script binds from something other than a constant: assignments from calls or
    attributes, imports, loop and with targets, function parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None:
                    names.add(arg.arg)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            value = node.value
            if value is not None and not _constant_only(value, frozenset()):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            names.add(n.id)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            for n in ast.walk(node.target):
                if isinstance(n, ast.Name):
                    names.add(n.id)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    for n in ast.walk(item.optional_vars):
                        if isinstance(n, ast.Name):
                            names.add(n.id)
    return frozenset(names)


def _import_origins(tree):
    """{local name: the module it was imported from} (`import a.b as c` -> c: a.b; `from a import b` -> b: a)."""
    origins = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                origins[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                origins[alias.asname or alias.name] = node.module
    return origins


def _dependencies(tree):
    """{name: names its assignments read}, for following a checked value back to where it came from."""
    deps = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            read = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        deps.setdefault(n.id, set()).update(read)
    return deps


def _modules_behind(exprs, origins, deps):
    """The modules the names in `exprs` were imported from, following assignments back."""
    seen, todo, modules = set(), [], set()
    for e in exprs:
        todo += [n.id for n in ast.walk(e) if isinstance(n, ast.Name)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in origins:
            modules.add(origins[name])
        todo += list(deps.get(name, ()))
    return sorted(modules)


def _constant_only(expr, bound):
    """True when an expression can only ever have one value: constants and operators on them, and
    names the script never binds from anything computed."""
    for n in ast.walk(expr):
        if isinstance(n, (ast.Call, ast.Attribute, ast.Subscript, ast.Await, ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(n, ast.Name) and n.id in bound:
            return False
    return True


def checks(tree):
    """{line: {kind, trivial, text}} for every check statement of a reproduction script:
    `assert` statements, `raise AssertionError` under an `if` (or in the `else` of a `try` whose body
    calls something: "it did not raise"), calls of assert*/fail* functions, and `with raises(...)`
    blocks (pytest.raises, self.assertRaises...: the code in them must raise).
    A check is trivial when what it tests is a constant (`assert False`, `assert 1 == 2`), when it
    raises AssertionError unconditionally, or when a raises block calls nothing: that is raising the
    type itself, not detecting the bug.
    """
    if tree is None:
        return {}
    bound = _bound_names(tree)
    origins, deps = _import_origins(tree), _dependencies(tree)
    out = {}

    def add(node, kind, trivial, checked):
        first, last = _span(node)
        # The modules the checked values come from: the runner tells which are the repository's.
        modules = _modules_behind(checked, origins, deps)
        for line in range(first, last + 1):
            out.setdefault(line, {"kind": kind, "trivial": trivial, "line": first, "modules": modules})

    def visit(nodes, conditions):
        for child in nodes:
            if isinstance(child, ast.Assert):
                add(child, "assert", _constant_only(child.test, bound), [child.test])
            elif isinstance(child, ast.Raise) and child.exc is not None and _raises_assertion(child.exc):
                guarded = any(not _constant_only(c, bound) for c in conditions)
                add(child, "raise AssertionError", not guarded, conditions)
            elif isinstance(child, ast.With) and any(_is_raises_call(i.context_expr) for i in child.items):
                calls = [n for stmt in child.body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
                add(child, "raises check", not calls, calls)
            elif isinstance(child, ast.Expr) and isinstance(child.value, ast.Call) and _is_check_call(child.value):
                call = child.value
                args = list(call.args) + [k.value for k in call.keywords]
                guarded = any(not _constant_only(c, bound) for c in conditions)
                trivial = all(_constant_only(a, bound) for a in args) and not guarded
                add(child, "check call", trivial, args + conditions)
            if isinstance(child, (ast.If, ast.While)):
                visit(ast.iter_child_nodes(child), conditions + [child.test])
            elif isinstance(child, ast.Try) and child.orelse:
                # The else of a try runs only when its body did not raise: a condition when the body
                # calls something (what the check says should have raised).
                tried = [n for stmt in child.body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
                visit(child.body + child.handlers + child.finalbody, conditions)
                visit(child.orelse, conditions + tried)
            else:
                visit(ast.iter_child_nodes(child), conditions)

    visit(ast.iter_child_nodes(tree), [])
    return out


RAISES_CALLS = ("raises", "assertraises", "assertraisesregex", "assertwarns", "warns")


def _is_raises_call(expr):
    """`pytest.raises(E)`, `self.assertRaises(E)`, `raises(E, match=...)`: a block that must raise."""
    if not isinstance(expr, ast.Call):
        return False
    f = expr.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name.lower() in RAISES_CALLS


def _raises_assertion(exc):
    target = exc.func if isinstance(exc, ast.Call) else exc
    return (isinstance(target, ast.Name) and target.id == "AssertionError") or (
        isinstance(target, ast.Attribute) and target.attr == "AssertionError"
    )


def _is_check_call(call):
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name.lower().startswith(CHECK_CALL_PREFIXES)
