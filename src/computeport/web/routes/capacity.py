"""The capacity page: installed PFLOPS by site over time against the 3,000 PF and 15,000 PF
targets, Sandy Ridge as planned capacity, and the cluster's installed compute now."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from computeport.models.identity import Role
from computeport.web.deps import CurrentViewer, PageClock, PageCluster, portal_state
from computeport.web.formatting import HONG_KONG
from computeport.web.i18n import translator
from computeport.web.templating import render
from computeport.web.views.capacity import (
    CITY_TARGET_PF,
    CYBERPORT_TARGET_PF,
    TIMELINE,
    installed_pflops,
    level_on,
    quarters,
)
from computeport.web.views.capacity_backtest import (
    backtest_command,
    backtest_path,
    load_backtest,
)
from computeport.web.views.capacity_plan import PlanUnreadable, load_plan, plan_command, plan_path

router = APIRouter(include_in_schema=False)

CAPACITY_READERS = (Role.OPERATOR, Role.FUNDER, Role.SCHEME_OFFICER)


@router.get("/capacity")
def capacity_page(
    request: Request, viewer: CurrentViewer, clock: PageClock, cluster: PageCluster
) -> Response:
    viewer.require(*CAPACITY_READERS)
    _ = translator(viewer.locale)
    days = quarters(date(2024, 10, 1), date(2032, 12, 31))
    x = [d.isoformat() for d in days]
    cyberport = [level_on("Cyberport", d, planned=False) for d in days]
    sandy = [level_on("Sandy Ridge", d, planned=True) or None for d in days]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Cyberport (installed)"),
            "x": x,
            "y": cyberport,
            "line": {"shape": "hv", "width": 3, "color": "#1479b8"},
            "fill": "tozeroy",
            "fillcolor": "rgba(20,121,184,0.15)",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": _("Sandy Ridge (planned)"),
            "x": x,
            "y": sandy,
            "line": {"shape": "hv", "width": 3, "dash": "dash", "color": "#0f9d8a"},
        },
    ]
    for label, level, colour in (
        (_("Cyberport target 3,000 PF"), CYBERPORT_TARGET_PF, "#f2a541"),
        (_("City target 15,000 PF by 2030"), CITY_TARGET_PF, "#c53030"),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": label,
                "x": [x[0], x[-1]],
                "y": [level, level],
                "line": {"dash": "dot", "width": 1.5, "color": colour},
            }
        )
    spec = {
        "data": data,
        "layout": {
            "yaxis": {
                "title": {"text": "PFLOPS (FP16 dense)"},
                "type": "log",
                "gridcolor": "#e8edf3",
            },
            "xaxis": {"gridcolor": "#e8edf3"},
            "hovermode": "x unified",
        },
    }
    now_pf = installed_pflops(cluster.nodes()) if cluster is not None else None
    today = clock.now().astimezone(HONG_KONG).date()
    path = getattr(request.app.state, "capacity_plan_path", None) or plan_path(
        portal_state(request).settings
    )
    plan_error = None
    try:
        plan = load_plan(path)
    except PlanUnreadable as exc:
        plan, plan_error = None, str(exc)
    return render(
        request,
        "capacity.html",
        {
            "chart_spec": spec,
            "timeline": TIMELINE,
            "installed_now": now_pf,
            "recorded_now": level_on("Cyberport", today, planned=False),
            "cyberport_target": CYBERPORT_TARGET_PF,
            "city_target": CITY_TARGET_PF,
            "plan": plan,
            "plan_error": plan_error,
            "plan_command": plan_command(path),
            "backtest": load_backtest(backtest_path(path)),
            "backtest_command": backtest_command(backtest_path(path)),
        },
        viewer=viewer,
        active="capacity",
    )
