"""The floors of docs/ARCHITECTURE.md hold: imports point down only, and each floor loads only
the heavy libraries it is allowed to.

core (qsim/*.py, qsim/input, qsim/records) <- model, analysis <- experiments <- present. The
model alone imports SimPy and never pandas; the analysis never imports the model or SimPy;
the pictures and the analysis are the only pandas importers. qsim/qiskit imports the core
only, and it alone imports qiskit (present's `qsim trace` reaches it inside the command).
Imports under ``if TYPE_CHECKING:`` are annotations, not imports. Relative imports (``from
..present import x``) count as what they name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qsim"
FLOORS = ("model", "analysis", "experiments", "present", "qiskit")
# What each floor may import from qsim (besides itself)
ALLOWED = {
    "core": {"core"},
    "model": {"core"},
    "analysis": {"core"},
    "experiments": {"core", "model", "analysis"},
    "present": {"core", "model", "analysis", "experiments", "qiskit"},
    "qiskit": {"core"},
}
QISKIT = {"qiskit", "qiskit_ibm_runtime", "qiskit_aer", "samplomatic"}
# Third-party libraries a floor must never import
BANNED = {
    "core": {"simpy", "pandas", "matplotlib", "scipy", "typer", "rich"},
    "model": {"pandas", "matplotlib", "scipy", "typer", "rich"},
    "analysis": {"simpy", "matplotlib", "typer", "rich"},
    "experiments": {"pandas", "matplotlib", "typer", "rich"},
    "present": set(),
    "qiskit": {"simpy", "pandas", "matplotlib", "typer", "rich"},
}
for _floor in BANNED:  # the Qiskit libraries belong to qsim/qiskit alone
    if _floor != "qiskit":
        BANNED[_floor] |= QISKIT
# qsim/plots.py is the old name of qsim.present.plots, kept for users: an alias, not code.
ALIASES = {"plots.py"}
# qsim/examples holds the examples `qsim examples` copies out (vqe_local.py is a user's Qiskit
# script): data shipped with the package, not one of its modules.
EXAMPLES = PACKAGE / "examples"


def floor_of(module: str) -> str:
    """The floor of a module; the core is the top level, ``qsim.input`` and ``qsim.records``."""
    if module == "qsim.__main__":  # `python -m qsim`: the command line's entry
        return "present"
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in FLOORS else "core"


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a ``from`` import names, relative ones resolved against ``module``."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]  # a module's relative imports start from its package
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if path.name in ALIASES and path.parent == PACKAGE or EXAMPLES in path.parents:
            continue
        out.append((".".join(relative.parts).removesuffix(".__init__"), path))
    return out


def runtime_imports(path: Path, module: str = "") -> set[str]:
    """Every module imported outside ``if TYPE_CHECKING:``, function bodies included, relative
    imports resolved against ``module`` (the importing module's name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = absolute(module, is_package, node)
            found.add(name)
            if name.startswith("qsim") and (node.module is None or name == "qsim"):
                # from qsim import plots, from . import x: the submodules
                found.update(f"{name}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_imports_point_down_only(module: str, path: Path) -> None:
    floor = floor_of(module)
    for imported in runtime_imports(path, module):
        top = imported.split(".")[0]
        if top == "qsim":
            if imported == "qsim" or imported == "qsim.version":
                continue  # the package's own lazy names and version are everyone's
            target = floor_of(imported)
            assert target == floor or target in ALLOWED[floor], (
                f"{module} ({floor}) imports {imported} ({target})")
        else:
            assert top not in BANNED[floor], f"{module} ({floor}) imports {top}"


def test_relative_imports_are_seen() -> None:
    """A relative import that climbs a floor is caught like an absolute one."""
    tree = ast.parse("from ..present import report\nfrom . import clock\n")
    first, second = tree.body
    assert isinstance(first, ast.ImportFrom) and isinstance(second, ast.ImportFrom)
    assert absolute("qsim.model.backend", False, first) == "qsim.present"
    assert absolute("qsim.model", True, second) == "qsim.model"
    assert floor_of("qsim.present.report") == "present"


def test_the_core_never_imports_a_floor_above_it() -> None:
    # the lazy package __init__ names floors only inside strings and TYPE_CHECKING
    init = runtime_imports(PACKAGE / "__init__.py", "qsim")
    assert {m for m in init if m.startswith("qsim.")} <= {"qsim.version"}


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return {name.split(".")[0] for name in done.stdout.split()}


HEAVY = {"pandas", "matplotlib", "simpy", "scipy", *QISKIT}


@pytest.mark.slow
@pytest.mark.parametrize("statement,unloaded", [
    ("import qsim; qsim.__version__", HEAVY),
    ("import qsim.model.engine", {"pandas", "matplotlib", "scipy"}),
    # the summary works on numpy columns: pandas only once a DataFrame is asked for
    ("import qsim.analysis.result, qsim.analysis.metrics", {"simpy", "matplotlib", "pandas"}),
    ("import qsim.experiments", {"matplotlib", "pandas"}),
    ("import qsim.present.cli", HEAVY),
    ("import qsim.input.scenario, qsim.records.trace_file", HEAVY),
    ("import qsim.scenario, qsim.recording", HEAVY),  # the 0.2 paths, still there
])
def test_each_floor_loads_only_what_it_needs(statement: str, unloaded: set[str]) -> None:
    assert loaded_after(statement) & unloaded == set()


def loaded_by_command(args: list[str]) -> set[str]:
    """The top-level modules loaded once ``qsim ARGS`` has run, in a fresh interpreter (the
    list goes to stderr: stdout is the command's)."""
    code = (f"import sys; from qsim.present.cli import main; code = main({args!r}); "
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return {name.split(".")[0] for name in done.stderr.split()}


@pytest.mark.slow
def test_help_and_version_load_no_heavy_library() -> None:
    for args in (["--help"], ["--version"], ["run", "--help"], ["trace", "--help"]):
        assert loaded_by_command(args) & HEAVY == set(), args


def test_public_names_resolve_lazily_and_stay_the_same_objects() -> None:
    import qsim
    from qsim.experiments import compare, replicate, simulate
    from qsim.present import plots

    assert (qsim.simulate, qsim.replicate, qsim.compare) == (simulate, replicate, compare)
    assert qsim.plots is plots
    import qsim.plots as old_name

    assert old_name is plots
    # 0.2's module paths (0.3 moved them into qsim.input, qsim.records, ...) are the same
    # modules at their new places
    import qsim.scenario
    import qsim.trace

    import qsim.input.scenario
    import qsim.records.log

    assert (qsim.scenario, qsim.trace) == (qsim.input.scenario, qsim.records.log)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        qsim.nothing  # noqa: B018


@pytest.mark.slow
@pytest.mark.parametrize("options,unloaded", [
    (["--json"], {"matplotlib", "pandas"}),  # the summary alone needs neither
    ([], {"matplotlib", "pandas"}),  # nor does the report
    (["-r", "2"], {"matplotlib"}),  # replications are a table (pandas), not a picture
])
def test_a_run_that_draws_nothing_loads_no_matplotlib(options: list[str],
                                                      unloaded: set[str]) -> None:
    # matplotlib costs half a second to import, pandas a fifth, and a picture of a million
    # jobs seconds more: `qsim run` draws only for --plot or --out.
    vqe = PACKAGE.parent / "scenarios" / "vqe.yaml"
    assert loaded_by_command(["run", str(vqe), *options]) & unloaded == set()
