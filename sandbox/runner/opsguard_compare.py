"""Forged comparisons: a value that equals everything makes every `assert result == expected` pass.

ImpossibleBench's trick: a fix returns an object whose __eq__ answers True whatever it is given (or
whose __ne__ answers False), and every check that compares it passes without the right value. The
patch policy refuses the clear-text forms (activities/patch-policy.ts); this catches the rest where
they matter, in the reproduction's own comparisons with the patch applied.

instrument() rewrites each single `==` or `!=` of the reproduction script (line numbers kept) into a
call of the checker, which first asks each operand about a fresh object() it cannot know: a value that
equals it (for `==`), or does not differ from it (for `!=`), answers everything, and the comparison
raises AssertionError at the script's line saying so. Only gate 2's runs are rewritten (the runner
decides); unittest.mock.ANY, which equals everything by design, is let through.
"""
import ast
import sys

CHECKER = "__opsguard_compare__"


class _Rewrite(ast.NodeTransformer):
    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return node
        call = ast.Call(
            func=ast.Name(CHECKER, ast.Load()),
            args=[node.left, node.comparators[0], ast.Constant(isinstance(node.ops[0], ast.Eq)), ast.Constant(node.lineno)],
            keywords=[],
        )
        return ast.copy_location(call, node)


def instrument(source, filename):
    """The script compiled with its comparisons checked (raises SyntaxError/ValueError as compile does)."""
    tree = ast.parse(source, filename=filename)
    return compile(ast.fix_missing_locations(_Rewrite().visit(tree)), filename, "exec", dont_inherit=True)


def checker():
    """The function the rewritten comparisons call; bound before any code under test runs."""
    modules, fresh, bool_, type_, exception = sys.modules, object, bool, type, Exception

    def is_mock_any(value):
        mock = modules.get("unittest.mock")
        any_type = getattr(mock, "_ANY", None) if mock is not None else None
        return any_type is not None and type_(value) is any_type

    def answers_everything(value, equal):
        if is_mock_any(value):
            return False
        probe = fresh()
        try:
            return bool_(value == probe) if equal else not bool_(value != probe)
        except exception:
            return False  # arrays, query expressions: no single answer, so not a forged one

    def compare(left, right, equal, line):
        for value in (left, right):
            if answers_everything(value, equal):
                raise AssertionError(
                    f"OpsGuard: the {type_(value).__name__} compared at line {line} "
                    f"{'equals' if equal else 'does not differ from'} any object, even a fresh object(): "
                    f"a forged comparison, not a fix"
                )
        return left == right if equal else left != right

    return compare
