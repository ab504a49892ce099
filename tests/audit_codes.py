"""Finding every audit event code the source writes, by reading the source: each
``AuditRecord(...)`` call's event argument, followed back through the functions and
classes that pass an event code on (``_record(at, event_type, ...)``, a constructor
keeping it in ``self.event_type``) to the literals and constants at their callers.

What cannot be followed (an event code computed at run time) is reported, so the
coverage test fails on it instead of missing a code."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sink:
    """A callable one of whose arguments ends up as an audit record's event code."""

    module: Path
    cls: str | None  # the class of a method called on ``self``, else None
    name: str  # the function's name, or the class's for its constructor
    index: int  # the argument's position, ``self`` not counted
    keyword: str
    method: bool  # called as ``<object>.name(...)`` in its class (else by its bare name)


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    constants: dict[str, str]
    imported: dict[str, str]  # local name -> module name it came from


def _parse(root: Path) -> dict[Path, _Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        constants: dict[str, str] = {}
        imported: dict[str, str] = {}
        for node in tree.body:
            value, targets = None, []
            if isinstance(node, ast.Assign):
                value, targets = node.value, node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                value, targets = node.value, [node.target]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = value.value
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    imported[alias.asname or alias.name] = node.module
        modules[path] = _Module(path, tree, constants, imported)
    return modules


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[ast.AST | None, str | None]:
    """The function a node is in, and that function's class (None for none)."""
    function: ast.AST | None = None
    current: ast.AST | None = node
    while current is not None:
        current = parents.get(current)
        if function is None and isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
            function = current
        if isinstance(current, ast.ClassDef):
            return function, current.name
    return function, None


class EventCodes:
    """Run :meth:`scan`; then ``codes`` holds every code found and ``unresolved``
    every place whose event argument could not be followed, as ``file:line``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = _parse(root)
        self.codes: dict[str, list[str]] = {}
        self.unresolved: list[str] = []
        self._sinks: list[Sink] = []
        self._parents = {path: _parents(m.tree) for path, m in self.modules.items()}

    def scan(self) -> EventCodes:
        audit_chain = self.root / "domain" / "audit_chain.py"
        self._sinks.append(Sink(audit_chain, None, "AuditRecord", 1, "event_type", False))
        done = 0
        while done < len(self._sinks):
            sink = self._sinks[done]
            done += 1
            for path, module in self.modules.items():
                for node in ast.walk(module.tree):
                    if isinstance(node, ast.Call) and self._calls(path, node, sink):
                        self._follow(path, node, sink)
        return self

    def _calls(self, path: Path, call: ast.Call, sink: Sink) -> bool:
        func = call.func
        if sink.method:
            # ``self._record(...)``, or ``session._record(...)`` in a classmethod.
            if not (
                isinstance(func, ast.Attribute) and func.attr == sink.name and path == sink.module
            ):
                return False
            return _enclosing(call, self._parents[path])[1] == sink.cls
        if not (isinstance(func, ast.Name) and func.id == sink.name):
            return False
        if path == sink.module:
            return True
        return self.modules[path].imported.get(sink.name) == _module_name(self.root, sink.module)

    def _follow(self, path: Path, call: ast.Call, sink: Sink) -> None:
        argument: ast.expr | None = None
        if len(call.args) > sink.index and not any(
            isinstance(a, ast.Starred) for a in call.args[: sink.index + 1]
        ):
            argument = call.args[sink.index]
        for keyword in call.keywords:
            if keyword.arg == sink.keyword:
                argument = keyword.value
        where = f"{path.relative_to(self.root.parent)}:{call.lineno}"
        if argument is None:
            self.unresolved.append(where)
            return
        self._resolve(path, argument, call, where)

    def _resolve(self, path: Path, expr: ast.expr, at: ast.AST, where: str) -> None:
        module = self.modules[path]
        function, cls = _enclosing(at, self._parents[path])
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            self.codes.setdefault(expr.value, []).append(where)
        elif isinstance(expr, ast.IfExp):
            self._resolve(path, expr.body, at, where)
            self._resolve(path, expr.orelse, at, where)
        elif (
            isinstance(expr, ast.Name)
            and function is not None
            and self._local(path, expr.id, function, at, where)
        ):
            pass
        elif isinstance(expr, ast.Name) and expr.id in module.constants:
            self._resolve(path, ast.Constant(module.constants[expr.id]), at, where)
        elif isinstance(expr, ast.Name) and expr.id in module.imported:
            source = module.imported[expr.id]
            for other in self.modules.values():
                if _module_name(self.root, other.path) == source and expr.id in other.constants:
                    self._resolve(other.path, ast.Constant(other.constants[expr.id]), at, where)
                    return
            self.unresolved.append(where)
        elif (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id == "self"
            and cls is not None
            and self._attribute(path, cls, expr.attr)
        ):
            pass
        else:
            self.unresolved.append(where)

    def _local(self, path: Path, name: str, function: ast.AST, at: ast.AST, where: str) -> bool:
        """A parameter (its callers become sinks) or a variable assigned in the function."""
        assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        _, cls = _enclosing(function, self._parents[path])
        if name in params:
            method = cls is not None and params[:1] == ["self"]
            index = params.index(name) - (1 if method else 0)
            if function.name == "__init__":
                self._add(Sink(path, None, cls or "", index, name, False))
            else:
                self._add(Sink(path, cls, function.name, index, name, method))
            return True
        values = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        for value in values:
            self._resolve(path, value, at, where)
        return bool(values)

    def _attribute(self, path: Path, cls: str, attr: str) -> bool:
        """``self.attr`` set from a constructor parameter: the constructor is a sink."""
        for node in ast.walk(self.modules[path].tree):
            if not (isinstance(node, ast.ClassDef) and node.name == cls):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    for statement in ast.walk(item):
                        if (
                            isinstance(statement, ast.Assign)
                            and any(
                                isinstance(t, ast.Attribute) and t.attr == attr
                                for t in statement.targets
                            )
                            and isinstance(statement.value, ast.Name)
                        ):
                            return self._local(path, statement.value.id, item, statement, "")
        return False

    def _add(self, sink: Sink) -> None:
        if sink not in self._sinks:
            self._sinks.append(sink)
