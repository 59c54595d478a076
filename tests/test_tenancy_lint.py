"""Tenant filters live in repository modules: an AST check like polar's ``org_scope`` linter.

Reading another organisation's rows is the worst bug this platform can ship, and the permission
suites only catch it for the routes they exercise. So every query that narrows by
``organisation_id`` lives in a ``<domain>/repository.py`` whose ``readable_by(subject)`` is the one
place to review. This test walks ``src/computeport`` and fails on a comparison, or a
``.where()``/``.filter()``/``.filter_by()`` argument, that involves an ``organisation_id``
attribute anywhere else. Models and migrations define the column; they are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "computeport"

FILTER_METHODS = frozenset({"where", "filter", "filter_by"})
JOIN_METHODS = frozenset({"join", "outerjoin", "join_from", "outerjoin_from"})
"""A join's ON clause (``Organisation.id == Award.organisation_id``) relates rows, filters none."""

ALLOWED: dict[str, str] = {
    # path under src/computeport: why its organisation_id comparisons are not tenant read filters
    "award/desired.py": "the back ends' desired state: an award's members, no subject reads",
    "billing/adjustments.py": "staff write: checks the award belongs to the named organisation",
    "billing/payments.py": "staff/system dunning and matching keyed by an organisation id",
    "gateway/lookups.py": (
        "drops an organisation's keys from the process's in-memory cache when its data policy "
        "changes; reads nothing"
    ),
    "identity/service.py": "membership administration: who may grant or revoke in which org",
    "notification/outbox.py": "recipients of a notice about an organisation already chosen",
    "review/service.py": "conflict of interest: a reviewer's own organisation, not a read",
    "seed/cyberport.py": "demo seed finds the memberships it creates",
    "seed/gateway_demo.py": "demo seed finds the department's award and the admin it grants",
    "web/routes/applicant/applications.py": (
        "narrows an application the service already authorised to the URL's organisation"
    ),
    "web/views/people.py": "staff reviewers: organisation_id IS NULL marks a staff membership",
    "web/views/staff_jobs.py": (
        "staff-only job list: the organisation an operator picked, matched against the cluster's "
        "jobs in memory"
    ),
}
"""Modules allowed to compare ``organisation_id`` outside a repository, each with its reason."""


def _is_exempt(relative: str) -> bool:
    """Repositories are the home; models and migrations define the column."""
    parts = relative.split("/")
    return (
        parts[-1] == "repository.py"
        or parts[0] in {"models", "migrations"}
        or "migrations" in parts
    )


def _mentions_org(node: ast.AST) -> bool:
    """Whether an ``organisation_id`` attribute or keyword appears inside ``node``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "organisation_id":
            return True
        if isinstance(sub, ast.keyword) and sub.arg == "organisation_id":
            return True
    return False


def _is_filter_call(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr in FILTER_METHODS


def _compares_org(node: ast.Compare) -> bool:
    """An ``organisation_id`` on either side; ``x.organisation_id is None`` is a presence test."""
    if all(isinstance(op, ast.Is | ast.IsNot) for op in node.ops) and all(
        isinstance(c, ast.Constant) and c.value is None for c in node.comparators
    ):
        return False
    return any(
        isinstance(side, ast.Attribute) and side.attr == "organisation_id"
        for side in (node.left, *node.comparators)
    )


def _join_clauses(tree: ast.AST) -> set[int]:
    """``id()`` of every node inside a join's arguments."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in JOIN_METHODS
        ):
            for arg in (*node.args, *(k.value for k in node.keywords)):
                inside.update(id(sub) for sub in ast.walk(arg))
    return inside


def org_filters(source: str) -> list[int]:
    """Line numbers of organisation filters in ``source``: comparisons and filter-call arguments."""
    lines: set[int] = set()
    tree = ast.parse(source)
    joins = _join_clauses(tree)
    for node in ast.walk(tree):
        if id(node) in joins:
            continue
        if isinstance(node, ast.Compare) and _compares_org(node):
            lines.add(node.lineno)
        elif isinstance(node, ast.Call) and _is_filter_call(node):
            for arg in (*node.args, *node.keywords):
                if _mentions_org(arg):
                    lines.add(arg.lineno if isinstance(arg, ast.expr) else node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # ``Award.organisation_id.in_(...)`` is a filter expression wherever it is built.
            target = node.func.value
            if node.func.attr in {"in_", "not_in", "is_", "is_not"} and (
                isinstance(target, ast.Attribute) and target.attr == "organisation_id"
            ):
                lines.add(node.lineno)
    return sorted(lines)


def violations() -> list[str]:
    """``path:line`` of every organisation filter outside repositories and the allow-list."""
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if _is_exempt(relative) or relative in ALLOWED:
            continue
        for line in org_filters(path.read_text(encoding="utf-8")):
            found.append(f"{relative}:{line}")
    return found


def test_no_organisation_filter_outside_repositories() -> None:
    assert violations() == []


def test_allow_list_entries_exist_and_say_why() -> None:
    for relative, reason in ALLOWED.items():
        assert (SRC / relative).is_file(), relative
        assert reason.strip(), relative


def test_checker_catches_a_planted_where() -> None:
    source = (
        "from sqlalchemy import select\n"
        "def leak(session, org):\n"
        "    return session.scalars(select(Award).where(Award.organisation_id == org))\n"
    )
    assert org_filters(source) == [3]


def test_checker_catches_a_filter_beside_a_join() -> None:
    source = (
        "select(Award).join(Organisation, Organisation.id == Award.organisation_id)"
        ".where(Award.organisation_id == org)\n"
    )
    assert org_filters(source) == [1]


def test_checker_catches_filter_by_keyword_and_in() -> None:
    source = (
        "q.filter_by(organisation_id=org)\n"
        "stmt = select(Invoice).where(Invoice.organisation_id.in_(orgs))\n"
        "if award.organisation_id != subject_org: pass\n"
    )
    assert org_filters(source) == [1, 2, 3]


def test_checker_ignores_writes_reads_and_joins() -> None:
    source = (
        "invoice = Invoice(organisation_id=award.organisation_id)\n"
        "org = award.organisation_id\n"
        "stmt = select(Award.organisation_id)\n"
        "if filters.organisation_id is not None: pass\n"
        "stmt = select(Award).join(Organisation, Organisation.id == Award.organisation_id)\n"
    )
    assert org_filters(source) == []
