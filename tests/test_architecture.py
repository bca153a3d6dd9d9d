"""The import graph of solver/ and explain/, read with ast (every import, also inside functions):
no cycle (an import under `if TYPE_CHECKING:` never runs, so it is no edge of the cycle rule,
though the library and private-name rules read it too); the solver libraries only where they belong; no module
outside the backends takes another module's private (underscore) name."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("solver", "explain")

# Where z3 may be imported: the symbolic semantics, the one query runner, the backends.
Z3_HOMES = ("solver.semantics", "solver.query", "solver.backends")
# The z3 calls that run a search: only solver/query.py (and the z3 backend) may make them.
Z3_SOLVING = frozenset({"Solver", "Optimize", "SolverFor", "SimpleSolver", "sat", "unsat", "unknown"})
# Where clingo may be imported: its backend, and the fixtures' minimum cover (an ASP #minimize
# over the candidate fixtures, which no backend's `decide` offers).
CLINGO_HOMES = ("solver.backends.clingo_backend", "solver.fixtures")


@dataclass(frozen=True)
class Import:
    importer: str
    module: str  # the module imported (a package's submodule when `from pkg import sub`)
    names: tuple[str, ...]  # names taken from it (empty for `import m`)
    line: int
    typing_only: bool = False  # under `if TYPE_CHECKING:`


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_imports(root: Path, packages: Iterable[str] = PACKAGES) -> tuple[set[str], list[Import]]:
    """The modules under `packages` and every import statement in them."""
    files = {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    out: list[Import] = []
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for n in ast.walk(ast.Module(body=block.body, type_ignores=[]))
        }
        for node in ast.walk(tree):
            t = id(node) in typing_only
            if isinstance(node, ast.Import):
                out += [Import(name, a.name, (), node.lineno, t) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    if sub in files:  # `from solver import ir`: the module solver.ir
                        out.append(Import(name, sub, (), node.lineno, t))
                    else:
                        out.append(Import(name, base, (a.name,), node.lineno, t))
    return set(files), out


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing itself
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def graph(modules: set[str], imports: Iterable[Import]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for i in imports:
        if i.module in modules and i.module != i.importer and not i.typing_only:
            edges[i.importer].add(i.module)
    return edges


def _inside(module: str, homes: Iterable[str]) -> bool:
    return any(module == h or module.startswith(h + ".") for h in homes)


def library_breaches(imports: Iterable[Import], library: str, allowed: Iterable[str]) -> list[str]:
    allowed = tuple(allowed)
    return sorted(
        f"{i.importer}:{i.line} imports {library}"
        for i in imports
        if (i.module == library or i.module.startswith(library + ".")) and not _inside(i.importer, allowed)
    )


def private_breaches(modules: set[str], imports: Iterable[Import]) -> list[str]:
    """Underscore names taken from another of our modules, outside the backends."""
    return sorted(
        f"{i.importer}:{i.line} takes {i.module}.{n}"
        for i in imports
        if i.module in modules and not _inside(i.importer, ("solver.backends",))
        for n in i.names
        if n.startswith("_") and not n.startswith("__")
    )


def solving_calls(root: Path, modules: Iterable[str]) -> list[str]:
    """`z3.Solver`, `z3.sat`, ... used in the given modules: a search run past solver/query.py."""
    out = []
    for name in modules:
        path = root / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = root / name.replace(".", "/") / "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "z3"
                and node.attr in Z3_SOLVING
            ):
                out.append(f"{name}:{node.lineno} uses z3.{node.attr}")
    return sorted(out)


MODULES, IMPORTS = read_imports(ROOT)


def test_the_graph_is_read() -> None:
    edges = graph(MODULES, IMPORTS)
    assert {"solver.query", "explain.derivation", "solver.checks.engine"} <= MODULES
    assert "solver.query" in edges["solver.checks.engine"]
    assert "solver.ir" in edges["solver.backends.eval_backend"]  # `from solver import ir`


def test_no_import_cycle() -> None:
    assert cycles(graph(MODULES, IMPORTS)) == []


def test_z3_only_in_semantics_query_and_backends() -> None:
    assert library_breaches(IMPORTS, "z3", Z3_HOMES) == []


def test_only_the_query_runner_runs_a_z3_search() -> None:
    outside = [m for m in MODULES if not _inside(m, Z3_HOMES)]
    assert solving_calls(ROOT, outside) == []


def test_clingo_only_in_its_backend() -> None:
    assert library_breaches(IMPORTS, "clingo", CLINGO_HOMES) == []
    assert library_breaches(IMPORTS, "clorm", CLINGO_HOMES) == []


def test_no_private_name_crosses_a_module_boundary() -> None:
    assert private_breaches(MODULES, IMPORTS) == []


# ---------------------------------------------------------------- the rules can fail


def _plant(tmp_path: Path, files: Mapping[str, str]) -> tuple[set[str], list[Import]]:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return read_imports(tmp_path)


def test_a_planted_cycle_through_a_function_local_import_is_found(tmp_path: Path) -> None:
    modules, imports = _plant(
        tmp_path,
        {
            "solver/__init__.py": "",
            "solver/a.py": "from solver.b import f\n",
            "solver/b.py": "def f():\n    from solver import c\n",
            "solver/c.py": "from solver.a import g\nimport typing\n"
            "if typing.TYPE_CHECKING:\n    from explain import d\n",
            "explain/__init__.py": "",
            "explain/d.py": "from solver import a\n",
        },
    )
    assert cycles(graph(modules, imports)) == [["solver.a", "solver.b", "solver.c"]]


def test_planted_library_and_private_imports_are_found(tmp_path: Path) -> None:
    modules, imports = _plant(
        tmp_path,
        {
            "solver/__init__.py": "",
            "solver/query.py": "import z3\n",
            "solver/backends/__init__.py": "",
            "solver/backends/eval_backend.py": "_HIDDEN = 1\n",
            "solver/backends/z3_backend.py": "from solver.backends.eval_backend import _HIDDEN\n",
            "explain/__init__.py": "",
            "explain/x.py": "from z3 import And\nimport clingo.ast\nfrom .y import _helper\n",
            "explain/y.py": "def _helper(): ...\n",
        },
    )
    assert library_breaches(imports, "z3", Z3_HOMES) == ["explain.x:1 imports z3"]
    assert library_breaches(imports, "clingo", CLINGO_HOMES) == ["explain.x:2 imports clingo"]
    assert private_breaches(modules, imports) == ["explain.x:3 takes explain.y._helper"]
    assert cycles(graph(modules, imports)) == []


def test_a_planted_search_outside_the_runner_is_found(tmp_path: Path) -> None:
    _plant(tmp_path, {"explain/__init__.py": "", "explain/x.py": "import z3\ns = z3.Solver()\nz3.sat\n"})
    assert solving_calls(tmp_path, ["explain.x"]) == ["explain.x:2 uses z3.Solver", "explain.x:3 uses z3.sat"]


