"""The per-wijk summary: published proposals by status and their support, projects by year and
phase, budgets. The database counts each wijk's summary from that wijk's features alone (from
indexes that hold the counted columns), so after a write only the part of the summary its
collection feeds is counted again, for the wijken it touched."""

from __future__ import annotations

from collections import defaultdict

from pygeofilter import ast

from geoservice.domain.model import BUDGET_STATUSES
from geoservice.domain.policy import Policy
from geoservice.store import Query, Store


def of(store: Store, policy: Policy, year: int, wijkcodes: list[str]) -> dict[str, dict]:
    """{wijkcode: summary} of these wijken, whole."""
    proposals, projects = (PARTS[name](store, policy, wijkcodes) for name in ("voorstellen", "projecten"))
    return {code: {**projects[code], **proposals[code], "wijkbudget_jaar": year} for code in wijkcodes}


def of_proposals(store: Store, policy: Policy, wijkcodes: list[str]) -> dict[str, dict]:
    """The part of the summaries of these wijken their published proposals make."""
    parts = {code: {"voorstellen_per_status": {}, "steun": 0, "wijkbudget_toegekend": 0} for code in wijkcodes}
    if not parts:
        return parts
    query = Query("voorstellen", _in(wijkcodes))
    for wijk, status, count, steun, budget in store.totals(query, ("wijkcode", "status"), ("steun", "wijkbudget")):
        part = parts[wijk]
        part["voorstellen_per_status"][status] = int(count)
        part["steun"] += int(steun)
        part["wijkbudget_toegekend"] += int(budget) if status in BUDGET_STATUSES else 0
    for code, part in parts.items():
        part["wijkbudget"] = policy.wijkbudget.of(code)
        part["wijkbudget_resterend"] = part["wijkbudget"] - part["wijkbudget_toegekend"]
    return parts


def of_projects(store: Store, policy: Policy, wijkcodes: list[str]) -> dict[str, dict]:
    """The part of the summaries of these wijken their projects make."""
    parts = {code: defaultdict(lambda: defaultdict(int)) for code in wijkcodes}
    if not parts:
        return {}
    query = Query("projecten", _in(wijkcodes), published_only=False)
    for wijk, planjaar, fase, count, budget in store.totals(
        query, ("wijkcode", "planjaar", "fase"), ("budget_indicatie",)
    ):
        part = parts[wijk]
        part["projecten_per_planjaar"][str(planjaar)] += int(count)
        part["projecten_per_fase"][fase] += int(count)
        part["budget_per_planjaar"][str(planjaar)] += int(budget)
    names = ("projecten_per_planjaar", "projecten_per_fase", "budget_per_planjaar")
    return {code: {name: dict(sorted(part[name].items())) for name in names} for code, part in parts.items()}


def _in(wijkcodes: list[str]):
    return ast.In(ast.Attribute("wijkcode"), sorted(wijkcodes), False)


PARTS = {"voorstellen": of_proposals, "projecten": of_projects}  # by the collection that feeds them
