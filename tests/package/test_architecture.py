"""The package's layers (docs/architecture.md), read from its imports: arrows point down, no circles,
no private name imported from another module."""

import ast
from pathlib import Path

import pytest

from paths import ROOT

PACKAGE = ROOT / "symgrad"

#: Each folder (or top-level module) and its rank: a module may import its own rank or lower ranks only;
#: printing and numeric, the two readers of a finished derivation, do not import each other (verify uses numeric's
#: evaluator, so it sits above both).
RANKS = {"core": 0, "ops": 1, "engine": 2, "printing": 3, "numeric": 3, "verify": 4, "derive": 5, "from_torch": 5,
         "handout": 6, "spec": 6, "examples": 6, "serve": 6, "cli": 7, "__init__": 8, "__main__": 8}
READERS = {"printing", "numeric"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """(imported module, [names]) for every import in the file, lazy ones in functions included."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "symgrad" or target.startswith("symgrad."):
                names = [alias.name for alias in node.names]
                submodules = [f"{target}.{n}" for n in names if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")
                                                                 ).with_suffix(".py").exists()
                              or (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).is_dir()]
                if submodules:
                    for sub in submodules:
                        yield sub, []
                    names = [n for n in names if f"{target}.{n}" not in submodules]
                if names or not submodules:
                    yield target, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("symgrad"):
                    yield alias.name, []


FILES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module(f): list(_imports(f)) for f in FILES}


def _folder(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    assert {_folder(m) for m in GRAPH} <= set(RANKS), "a new folder or top-level module: give it a rank here " \
                                                      "and in docs/architecture.md"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    here = _folder(module)
    for target, _ in GRAPH[module]:
        there = _folder(target)
        if target == "symgrad":
            there = "__init__"
        assert RANKS[there] <= RANKS[here], f"{module} imports {target}: {there} is above {here}"
        if there != here:
            assert not (here in READERS and there in READERS), f"{module} imports {target}: readers stay apart"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_private_name_from_another_module(module):
    for target, names in GRAPH[module]:
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module} imports {', '.join(private)} from {target}"
        leaf = target.rpartition(".")[2]
        assert not (leaf.startswith("_") and not leaf.startswith("__") and target != module), \
            f"{module} imports the private module {target}"


def test_no_import_circles():
    edges = {m: {t for t, _ in targets if t in GRAPH and t != m} for m, targets in GRAPH.items()}
    # a package's __init__ importing its own modules is how a package shows its face, not a circle
    for m in edges:
        edges[m] = {t for t in edges[m] if not (t.startswith(m + ".") and any(
            f.name == "__init__.py" and _module(f) == m for f in FILES))}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m):
        state[m] = 1
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_the_docs_draw_every_folder():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for folder in RANKS:
        if not folder.startswith("__") and folder != "examples":
            assert folder in text, f"docs/architecture.md does not name {folder}"
