"""The scan of the sources: every audit_record call followed back to the literals of its action, object type and
detail keys."""

import ast
import contextlib
from functools import cache
from pathlib import Path

from gonghui.casework.models import HardshipTier
from gonghui.imports import orgs as org_imports
from gonghui.imports import roster as member_imports

SOURCES = Path(__file__).resolve().parents[2] / "gonghui"
WRITER = "audit_record"


# ---------------------------------------------------------------- the scan of the sources
#
# Every call of audit_record is found in the syntax trees of the sources. Its `action` and `object_type` arguments are
# followed back to string literals: through conditional expressions, local assignments, and a helper's parameter to
# every call of that helper (positional or keyword, with defaults), however many helpers deep. The keys of `details`
# are followed the same way through dict literals, `**` unpacking, `|` merges and item assignments. An action that
# cannot be followed back to literals fails the scan: a label table is only complete if the scan is.


class Unresolved(Exception):
    pass


# Details whose keys are not literals at the call: import summaries (counts named in each import module) and the
# hardship aid standard's changes (one entry per tier).
DYNAMIC_DETAILS = {
    ("imports/roster/job.py", "job.result['summary']"): {"rows", *member_imports.COUNT_KEYS},
    ("imports/orgs/write.py", "result(written=True).summary"): {"rows", *org_imports.COUNT_KEYS},
    ("stations/imports.py", "result.summary"): {"added", "updated", "unchanged", "error"},
    # The hardship aid standard's changes, one entry per hardship tier.
    ("casework/approval.py", "changes"): set(HardshipTier.values),
}


class Scan:
    def __init__(self, root: Path):
        self.root = root
        self.functions: dict[str, list] = {}
        self.calls: dict[str, list] = {}
        self.module_constants: dict[tuple[Path, str], list[ast.expr]] = {}
        self.dynamic_used: set[tuple[str, str]] = set()
        for path in sorted(root.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    child.parent = node  # type: ignore[attr-defined]
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            self.module_constants.setdefault((path, target.id), []).append(node.value)
            for node in ast.walk(tree):
                node.path = path  # type: ignore[attr-defined]
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(node.name, []).append(node)
                elif isinstance(node, ast.Call) and (name := self.callee(node)):
                    self.calls.setdefault(name, []).append(node)

    @staticmethod
    def callee(call: ast.Call) -> str | None:
        if isinstance(call.func, ast.Name):
            return call.func.id
        if isinstance(call.func, ast.Attribute):
            return call.func.attr
        return None

    def where(self, node) -> str:
        return f"{node.path.relative_to(self.root)}:{getattr(node, 'lineno', '?')}"

    @staticmethod
    def enclosing_function(node):
        node = getattr(node, "parent", None)
        while node is not None and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node = getattr(node, "parent", None)
        return node

    @staticmethod
    def parameter(func, name: str) -> tuple[int | None, ast.expr | None, bool]:
        """(position among the positional parameters without self, default, whether it is a parameter)."""
        args = func.args
        positional = args.posonlyargs + args.args
        if positional and positional[0].arg in ("self", "cls"):
            positional = positional[1:]
        defaults = dict(
            zip([a.arg for a in positional][len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        for index, arg in enumerate(positional):
            if arg.arg == name:
                return index, defaults.get(name), True
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if arg.arg == name:
                return None, default, True
        return None, None, False

    def argument(self, call: ast.Call, func, name: str):
        for keyword in call.keywords:
            if keyword.arg == name:
                return keyword.value
        index, default, _ = self.parameter(func, name)
        if index is not None and index < len(call.args):
            if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
                raise Unresolved(f"{self.where(call)}: *args passed to {func.name}")
            return call.args[index]
        if any(k.arg is None for k in call.keywords):
            raise Unresolved(f"{self.where(call)}: **kwargs passed to {func.name}")
        return default

    def assignments(self, func, name: str) -> list[ast.expr]:
        found = []
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(node.value)
        return found

    def through_callers(self, func, name: str, resolve, seen: frozenset):
        key = (func.path, func.name, name)
        if key in seen:
            return set()
        seen = seen | {key}
        callers = self.calls.get(func.name, [])
        if not callers:
            raise Unresolved(f"{self.where(func)}: {func.name}() takes {name} but is never called")
        found = set()
        for call in callers:
            value = self.argument(call, func, name)
            if value is None:
                continue  # not passed and no default: the helper's own default is None (no value)
            found |= resolve(value, seen)
        return found

    def strings(self, expr, seen: frozenset = frozenset()) -> set[str]:
        """Every string an action or object-type expression can take."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.strings(expr.body, seen) | self.strings(expr.orelse, seen)
        if isinstance(expr, ast.Name):
            func = self.enclosing_function(expr)
            if func is not None:
                assigned = self.assignments(func, expr.id)
                if assigned:
                    return set().union(*(self.strings(value, seen) for value in assigned))
                if self.parameter(func, expr.id)[2]:
                    return self.through_callers(func, expr.id, self.strings, seen)
            constants = self.module_constants.get((expr.path, expr.id))
            if constants:
                return set().union(*(self.strings(value, seen) for value in constants))
        raise Unresolved(f"{self.where(expr)}: {ast.unparse(expr)}")

    def keys(self, expr, seen: frozenset = frozenset()) -> set[str]:
        """Every top-level key a `details` expression can carry."""
        if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
            return set()
        dynamic = (str(expr.path.relative_to(self.root)), ast.unparse(expr))
        if dynamic in DYNAMIC_DETAILS:
            self.dynamic_used.add(dynamic)
            return set(DYNAMIC_DETAILS[dynamic])
        if isinstance(expr, ast.Dict):
            found = set()
            for key, value in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    found |= self.keys(value, seen)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    raise Unresolved(f"{self.where(expr)}: details key {ast.unparse(key)}")
            return found
        if isinstance(expr, ast.Call) and self.callee(expr) == "dict" and not expr.args:
            return {k.arg for k in expr.keywords if k.arg}
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            return self.keys(expr.left, seen) | self.keys(expr.right, seen)
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.keys(value, seen) for value in expr.values))
        if isinstance(expr, ast.IfExp):
            return self.keys(expr.body, seen) | self.keys(expr.orelse, seen)
        if isinstance(expr, ast.Name):
            func = self.enclosing_function(expr)
            if func is not None:
                found = set()
                for node in ast.walk(func):
                    if isinstance(node, ast.Assign):
                        for target in node.targets:
                            if (
                                isinstance(target, ast.Subscript)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == expr.id
                            ):
                                if not (isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str)):
                                    raise Unresolved(f"{self.where(node)}: details key {ast.unparse(target.slice)}")
                                found.add(target.slice.value)
                assigned = self.assignments(func, expr.id)
                if assigned:
                    return found.union(*(self.keys(value, seen) for value in assigned))
                if self.parameter(func, expr.id)[2]:
                    return found | self.through_callers(func, expr.id, self.keys, seen)
        raise Unresolved(f"{self.where(expr)}: details {ast.unparse(expr)}")

    def audit_calls(self) -> list[ast.Call]:
        return self.calls.get(WRITER, [])


@cache
def scanned():
    """(actions, object types, detail keys, problems, the scan) over the sources."""
    scan = Scan(SOURCES)
    actions: dict[str, set[str]] = {}
    object_types: set[str] = set()
    detail_keys: set[str] = set()
    problems: list[str] = []
    calls = scan.audit_calls()
    for call in calls:
        arguments = {k.arg: k.value for k in call.keywords}
        if "action" not in arguments:
            problems.append(f"{scan.where(call)}: audit_record without a keyword action")
            continue
        try:
            for action in scan.strings(arguments["action"]):
                actions.setdefault(action, set()).add(scan.where(call))
        except Unresolved as exc:
            problems.append(f"action: {exc}")
        # An object type computed at run time (a model's name) is shown as itself; literal ones are checked.
        with contextlib.suppress(Unresolved):
            object_types |= scan.strings(arguments.get("object_type"))
        try:
            detail_keys |= scan.keys(arguments.get("details"))
        except Unresolved as exc:
            problems.append(f"details: {exc}")
    return actions, object_types, detail_keys, problems, scan, len(calls)
