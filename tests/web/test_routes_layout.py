"""Routes never import routes: what two pages share lives in ``web/views`` (read models, chart
specs, labels) or ``web/forms``; only ``web/routes/__init__.py`` assembles the routers, and a
package of routes (``routes/applicant/``) may import its own modules."""

from __future__ import annotations

import ast
from pathlib import Path

import computeport.web.routes as routes

ROOT = Path(routes.__file__).parent
PACKAGE = "computeport.web.routes"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _offenders(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative == Path("__init__.py"):
            continue
        own = f"{PACKAGE}.{relative.parts[0]}" if len(relative.parts) > 1 else None
        for name in sorted(_imports(path)):
            if not name.startswith(f"{PACKAGE}."):
                continue
            if own is not None and (name == own or name.startswith(f"{own}.")):
                continue
            out.append(f"{relative}: {name}")
    return out


def test_route_modules_do_not_import_each_other() -> None:
    assert _offenders(ROOT) == []


def test_the_check_sees_an_import_of_another_route_module(tmp_path: Path) -> None:
    (tmp_path / "applicant").mkdir()
    (tmp_path / "__init__.py").write_text("from computeport.web.routes import ops\n")
    (tmp_path / "applicant" / "jobs.py").write_text(
        "from computeport.web.routes.applicant.pages import PREFIX\n"
        "from computeport.web.routes import ops\n"
    )
    (tmp_path / "reports.py").write_text("from computeport.web.routes.scheme import charts\n")
    assert _offenders(tmp_path) == [
        "applicant/jobs.py: computeport.web.routes.ops",
        "reports.py: computeport.web.routes.scheme",
        "reports.py: computeport.web.routes.scheme.charts",
    ]
