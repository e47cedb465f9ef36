"""The layers (DESIGN §2), checked by import-linter's contracts in pyproject.toml, here and in `make lint`."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("aios", "connectors", "ledger", "agents", "core")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
    )


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_backward_import_breaks_the_layers_contract(tmp_path):
    """The contract bites: the same tree with one import of the ledger from core fails the check."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    selectors = tmp_path / "core" / "selectors.py"
    selectors.write_text(
        selectors.read_text() + "\n\ndef _backward():\n    from ledger import models  # noqa\n"
    )

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "core is not allowed to import ledger" in result.stdout
    assert "core.selectors -> ledger.models" in result.stdout


def test_an_agent_reading_records_around_its_scope_breaks_the_agents_contract(tmp_path):
    """ADR 0013: agents read records only through their client scope; importing the unscoped selectors (or
    building a scope themselves) fails the check."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    writer = tmp_path / "agents" / "proposal_writer" / "__init__.py"
    writer.write_text(
        writer.read_text() + "\n\ndef _around_the_scope():\n    from core import scope, selectors  # noqa\n"
    )

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "agents.proposal_writer -> core.selectors" in result.stdout
    assert "agents.proposal_writer -> core.scope" in result.stdout
