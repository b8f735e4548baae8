"""The package's layering: the import-linter contracts in pyproject.toml hold, no import cycle
(function-local imports included), commands import no private names, no module over 450 lines."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path


try:
    import tomllib
except ModuleNotFoundError:            # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gradcheck_cli"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 450


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """Run the contracts in ``cwd``'s pyproject.toml against the gradcheck_cli found in ``cwd``."""
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
                          timeout=300)


CYCLES = """
import grimp

graph = grimp.build_graph("gradcheck_cli", cache_dir=None)
modules = sorted(graph.modules)
for i, a in enumerate(modules):
    for b in modules[i + 1:]:
        if graph.chain_exists(a, b) and graph.chain_exists(b, a):
            print(a, b)
"""


def cycles(root: Path) -> list[tuple[str, str]]:
    """Pairs of modules of the gradcheck_cli in ``root`` that import each other, directly or not
    (in a fresh interpreter, so that it reads that copy of the package)."""
    result = subprocess.run([sys.executable, "-c", CYCLES], cwd=root, capture_output=True,
                            text=True, env={"PYTHONPATH": str(root)}, timeout=300, check=True)
    return [tuple(line.split()) for line in result.stdout.splitlines()]


def copy_of_package(tmp_path: Path) -> Path:
    """A copy of the package and its pyproject.toml in ``tmp_path``, to break on purpose."""
    shutil.copytree(PACKAGE, tmp_path / "gradcheck_cli",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path / "gradcheck_cli"


def add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n\ndef _layer_breaker():\n    {line}\n")


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_its_contract(tmp_path):
    package = copy_of_package(tmp_path)
    add_import(package / "engine" / "core.py", "from ..report import model")
    add_import(package / "sandbox" / "inside" / "wire.py", "from ...errors import GradcheckError")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert "2 broken" in result.stdout
    assert "gradcheck_cli.engine.core -> gradcheck_cli.report.model" in result.stdout
    assert "gradcheck_cli.sandbox.inside.wire -> gradcheck_cli.errors" in result.stdout


def test_the_contracts_name_every_module_they_must_keep_out():
    """"Nothing else of the package" is spelled out, so a new module must join the lists."""
    contracts = {c["id"]: c for c in
                 tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}
    top = {f"gradcheck_cli.{p.stem}" for p in PACKAGE.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    sandbox = {f"gradcheck_cli.sandbox.{p.stem}" for p in (PACKAGE / "sandbox").iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}

    assert set(contracts["engine"]["forbidden_modules"]) == top - {"gradcheck_cli.engine",
                                                                   "gradcheck_cli.errors"}
    assert set(contracts["inside"]["forbidden_modules"]) == (
        top - {"gradcheck_cli.sandbox"} | sandbox - {"gradcheck_cli.sandbox.inside"})
    assert set(contracts["in_process"]["source_modules"]) == top - {"gradcheck_cli.interactive"}


def test_a_command_that_imports_the_in_process_check_breaks_its_contract(tmp_path):
    """Learner code runs in gradcheck's own process only through the in-notebook check()."""
    package = copy_of_package(tmp_path)
    add_import(package / "grading" / "runner.py", "from ..interactive import caller")

    result = lint_imports(tmp_path)

    assert "1 broken" in result.stdout
    assert "gradcheck_cli.grading.runner -> gradcheck_cli.interactive.caller" in result.stdout


def test_no_import_cycle_in_the_package():
    assert cycles(ROOT) == []


def test_a_function_local_import_that_closes_a_circle_is_a_cycle(tmp_path):
    package = copy_of_package(tmp_path)
    add_import(package / "errors.py", "from .engine import core")

    assert ("gradcheck_cli.engine.core", "gradcheck_cli.errors") in cycles(tmp_path)


def private_imports(source: str) -> list[str]:
    """``from X import _name`` (and imports of ``_private`` modules) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") + [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            parts = [part for a in node.names for part in a.name.split(".")]
        else:
            continue
        found += [f"line {node.lineno}: {part}" for part in parts
                  if part.startswith("_") and not part.startswith("__")]
    return found


def test_commands_import_no_private_names():
    offenders = {path.name: private_imports(path.read_text())
                 for path in sorted((PACKAGE / "cli").glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_a_private_import_is_caught():
    assert private_imports("from ..grading.runner import _forbidden, RunOptions\n") == [
        "line 1: _forbidden"]
    assert private_imports("from ..version import __version__\n") == []


def test_no_module_is_over_450_lines():
    long = {str(path.relative_to(ROOT)): n for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
