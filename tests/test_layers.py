"""ARCHITECTURE.md's layers, checked on the source: features never import front ends,
no module reaches into another module's private names, errors live in errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nbtrack

PACKAGE = Path(nbtrack.__file__).parent
FEATURES = (
    "autologging",
    "evaluation",
    "prompts",
    "projects",
    "serving",
    "models",
    "migrate",
    "sync",
)
FRONT_ENDS = ("nbtrack.widgets", "nbtrack.magics", "nbtrack.cli", "nbtrack.server")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every import in the file, relative ones resolved."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((PACKAGE / folder).rglob("*.py"))]


@pytest.mark.parametrize("path", _files(*FEATURES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_features_never_import_front_ends(path: Path) -> None:
    for module, _ in _imports(path):
        assert not module.startswith(FRONT_ENDS), f"{path.name} imports {module}"


def _private_reaches(path: Path) -> list[str]:
    """Private names imported from another nbtrack package (its own package's are its own)."""
    own = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:2])
    reaches = []
    for module, names in _imports(path):
        if not module.startswith("nbtrack.") or module.startswith(own):
            continue
        reaches += [f"{module}.{n}" for n in names if n.startswith("_") and n != "__version__"]
        last = module.rsplit(".", 1)[-1]
        if last.startswith("_") and module != "nbtrack._validation":
            reaches.append(module)
    return reaches


@pytest.mark.parametrize(
    "folder", ["autologging", "models", "evaluation", "prompts", "serving", "widgets"]
)
def test_no_reach_into_another_packages_private_names(folder: str) -> None:
    found = {str(p.relative_to(PACKAGE)): _private_reaches(p) for p in _files(folder)}
    assert {k: v for k, v in found.items() if v} == {}


def test_registry_search_uses_the_filter_parsers_public_names() -> None:
    assert _private_reaches(PACKAGE / "store" / "sql" / "registry_search.py") == []


def test_models_do_not_import_the_sql_store() -> None:
    for path in _files("models"):
        for module, _ in _imports(path):
            assert not module.startswith("nbtrack.store.sql"), f"{path.name} imports {module}"


@pytest.mark.parametrize("folder", ["prompts", "evaluation", "serving"])
def test_errors_are_defined_in_errors_py(folder: str) -> None:
    for path in _files(folder):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not any(b.endswith(("Error", "Exception")) for b in bases), (
                    f"{path.name} defines {node.name}; errors belong in nbtrack/errors.py"
                )


def test_widgets_register_how_feature_results_display() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from nbtrack.evaluation.result import EvaluationResult
    from nbtrack.prompts.grid import PromptGrid
    from nbtrack.widgets import register_display

    shell = InteractiveShell.instance()
    assert register_display(shell)
    formatter = shell.display_formatter.ipython_display_formatter
    result = EvaluationResult(metrics={"accuracy": 1.0}, run_id="r", model_type="classifier")
    assert formatter.lookup(result) is not None
    assert formatter.lookup_by_type(PromptGrid) is not None
    # Outside a kernel (no widget front end) the report is its static HTML.
    bundle, _ = shell.display_formatter.format(result)
    assert bundle == {}  # the formatter displayed it itself


def test_results_are_panels_in_a_kernel_without_load_ext() -> None:
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import nbtrack as nbt\n"
        "nbt.evaluate\n"
        "from nbtrack.evaluation.result import EvaluationResult\n"
        "f = shell.display_formatter.ipython_display_formatter\n"
        "print(f.lookup_by_type(EvaluationResult) is not None)\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True"
