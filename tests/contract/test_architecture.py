"""The architecture as rules the code keeps, not a picture that drifts from it.

- The import contracts in pyproject.toml ([tool.importlinter]): the domain (services' `domain/` and the shared
  kernel's pure modules) imports nothing that does I/O; each service is layered (entry points, use cases,
  adapters, domain); services never import each other; nothing of production imports the launcher or the test
  kits; routes and pages hold no SQL.
- No import cycle between modules of our packages. The graph counts every import, also those inside functions,
  so a function-local import that dodges a cycle is caught too.
"""

import subprocess
import sys
from pathlib import Path

import grimp

PACKAGES = ("baocao_shared", "baocao_stack", "baocao_testing", "intake", "deadlines", "consolidation", "notify")
REPO = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            step = next(imported, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.find_modules_directly_imported_by(step)))))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    shown = [" -> ".join(c) for c in cycles]
    assert not cycles, (
        "import cycles (each line: modules that import each other, directly or through the others):\n"
        + "\n".join(shown)
    )


def test_the_cycle_finder_finds_a_cycle_through_a_function_local_import():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")  # e.g. `def f(): from a.x import g`
    graph.add_import(importer="a.z", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y"]]
