"""The per-wijk summary: published proposals by status and their support, projects by year and
phase, budgets. The database counts each wijk's summary from that wijk's features alone, so after
a write only the wijken it touched are summed up again."""

from __future__ import annotations

from pygeofilter import ast

from geoservice.domain.model import BUDGET_STATUSES
from geoservice.domain.policy import Policy
from geoservice.store import Query, Store


def of(store: Store, policy: Policy, year: int, wijkcodes: list[str]) -> dict[str, dict]:
    """{wijkcode: summary} of these wijken."""
    summaries = {code: _empty(code, policy, year) for code in wijkcodes}
    if not summaries:
        return summaries
    in_wijken = ast.In(ast.Attribute("wijkcode"), sorted(summaries), False)
    proposals = Query("voorstellen", in_wijken)  # the published ones
    for wijk, status, count, steun, budget in store.totals(proposals, ("wijkcode", "status"), ("steun", "wijkbudget")):
        summary = summaries[wijk]
        summary["voorstellen_per_status"][status] = int(count)
        summary["steun"] += int(steun)
        summary["wijkbudget_toegekend"] += int(budget) if status in BUDGET_STATUSES else 0
    projects = Query("projecten", in_wijken, published_only=False)
    for wijk, planjaar, count, budget in store.totals(projects, ("wijkcode", "planjaar"), ("budget_indicatie",)):
        summaries[wijk]["projecten_per_planjaar"][str(planjaar)] = int(count)
        summaries[wijk]["budget_per_planjaar"][str(planjaar)] = int(budget)
    for wijk, fase, count in store.totals(projects, ("wijkcode", "fase")):
        summaries[wijk]["projecten_per_fase"][fase] = int(count)
    for summary in summaries.values():
        summary["wijkbudget_resterend"] = summary["wijkbudget"] - summary["wijkbudget_toegekend"]
    return summaries


def _empty(code: str, policy: Policy, year: int) -> dict:
    return {
        "voorstellen_per_status": {},
        "steun": 0,
        "projecten_per_planjaar": {},
        "projecten_per_fase": {},
        "budget_per_planjaar": {},
        "wijkbudget_jaar": year,
        "wijkbudget": policy.wijkbudget.of(code),
        "wijkbudget_toegekend": 0,
    }
