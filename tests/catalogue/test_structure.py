"""Structure (issue 10 item 6): normalising a listing is catalogue knowledge; catalogue never imports pricing."""

import ast
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return names


def test_no_catalogue_module_imports_pricing():
    sources = sorted(CATALOGUE.rglob("*.py"))
    assert len(sources) > 20  # the walk really found the package
    offenders = {
        str(path.relative_to(CATALOGUE.parent)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "pricing"
        )
        for path in sources
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_a_pricing_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from pricing.models import RuleSet\n    import pricing.engine\n", encoding="utf-8")
    assert {"pricing.models", "pricing.engine"} <= _imported_modules(probe)
