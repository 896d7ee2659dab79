"""Rules of the engine's code that no single behavior test would catch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sewerline.engine

ENGINE = Path(sewerline.engine.__file__).parent
SOURCE = ENGINE.parent


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_engine_imports_no_django():
    offenders = {
        str(path.relative_to(ENGINE)): sorted(m for m in imported_modules(path)
                                              if m.split(".")[0] in {"django", "rest_framework"})
        for path in python_files(ENGINE)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_engine_import_loads_no_django():
    # Importing the whole audit path must not pull Django in indirectly either.
    code = "import sys, sewerline.engine.audit; print('django' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert output == "False"


def test_no_eval_or_exec_anywhere():
    calls = []
    for path in python_files(SOURCE):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in {"eval", "exec", "compile"}):
                calls.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert calls == []


def test_no_float_conversion_of_money_in_engine():
    # float() is allowed only in the XLSX writer, where Excel cells are doubles.
    allowed = {"report/xlsx.py"}
    calls = []
    for path in python_files(ENGINE):
        relative = str(path.relative_to(ENGINE))
        if relative in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "float"):
                calls.append(f"{relative}:{node.lineno}")
    assert calls == []
