"""The accountability trail: every phase or status change of a project or proposal becomes a
feature of `statuswijzigingen`, in the transaction of the change itself.

A change of a proposal becomes public when the proposal does (moderation first); changes of
projects are public at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geoservice.domain.model import (
    PARTICIPATION,
    PROJECTEN,
    PUBLIC_STATUSES,
    STATUSWIJZIGINGEN,
    VOORSTELLEN,
    Collection,
)
from geoservice.domain.validation import ValidationError
from geoservice.store.private import Actor, now


@dataclass(frozen=True)
class Step:
    """One change in the life of a feature: from `van` (None when created) to `naar`."""

    van: str | None
    naar: str
    tijdstip: str
    rol: str
    toelichting: str | None = None


def first_state(collection: Collection) -> dict:
    """What a new feature starts in when it does not say: the first phase or status."""
    if collection.lifecycle is None:
        return {}
    key, transitions = collection.lifecycle
    return {key: next(iter(transitions))}


def created_now(collection: Collection, props: dict, actor: Actor, note: str | None = None) -> list[Step]:
    """The trail of a feature created now: one step into its first phase or status, explained by note."""
    if collection.lifecycle is None:
        return []
    return [Step(None, props[collection.lifecycle[0]], props.get("ingediend") or now(), actor.role, note)]


def begin(collection: Collection, props: dict, trail: list[Step]) -> None:
    """Fill in what a new proposal starts with: submission time, publication time, no support yet."""
    if collection is not VOORSTELLEN:
        return
    props["ingediend"] = props.get("ingediend") or (trail[0].tijdstip if trail else now())
    published = [step.tijdstip for step in trail if step.naar in PUBLIC_STATUSES]
    props["gepubliceerd"] = published[0] if published else None
    props["steun"] = props["reacties"] = 0


def carry(collection: Collection, old: dict, props: dict, moment: str) -> None:
    """Keep what a change cannot set (counts, submission and publication time); a proposal that
    reaches a public status now is published at this moment."""
    if collection is not VOORSTELLEN:
        return
    for name in ("steun", "reacties", "gepubliceerd"):
        props[name] = old[name]
    props["ingediend"] = props.get("ingediend") or old["ingediend"]
    if props["gepubliceerd"] is None and props["status"] in PUBLIC_STATUSES:
        props["gepubliceerd"] = moment


def record_trails(store, tx, collection: Collection, ids: list, props: list[dict], geoms, trails) -> None:
    """Record the trails of new features."""
    records = [
        _record(collection, fid, p, geom, step)
        for fid, p, geom, trail in zip(ids, props, geoms, trails)
        for step in trail
    ]
    if records:
        store.insert_derived(tx, STATUSWIJZIGINGEN, records)


def record_change(
    store,
    tx,
    collection: Collection,
    feature_id,
    old: dict,
    new: dict,
    geom,
    actor: Actor,
    note: str | None,
    moment: str,
) -> None:
    """Record a change of phase or status (note explains it; a note without such a change is
    refused); publish a proposal's earlier changes with it. The trail shows the object's title as
    it is now: a title cleaned in moderation replaces the one submitted everywhere."""
    if collection.lifecycle is None:
        return
    key = collection.lifecycle[0]
    if old[key] != new[key]:
        explanation = note or (new.get("reden") if new[key] == "afgewezen" else None)
        step = Step(old[key], new[key], moment, actor.role, explanation)
        store.insert_derived(tx, STATUSWIJZIGINGEN, [_record(collection, feature_id, new, geom, step)])
    elif note is not None:
        raise ValidationError(f"toelichting: explains a change of {key}, and this change has none")
    if old["titel"] != new["titel"]:
        tx.execute(
            "UPDATE statuswijzigingen SET titel = ? WHERE collectie = ? AND object_id = ?",
            (new["titel"], collection.name, feature_id),
        )
        store.touch(tx, STATUSWIJZIGINGEN.name, [])
    if collection is VOORSTELLEN and old["gepubliceerd"] is None and new["gepubliceerd"] is not None:
        tx.execute(
            "UPDATE statuswijzigingen SET gepubliceerd = ? WHERE collectie = ? AND object_id = ? "
            "AND gepubliceerd IS NULL",
            (new["gepubliceerd"], collection.name, feature_id),
        )
        store.touch(tx, STATUSWIJZIGINGEN.name, [])


def record_deletion(store, tx, collection: Collection, feature_id, current, actor: Actor, note: str | None) -> None:
    """Record that a feature was withdrawn by its submitter or deleted by the municipality."""
    if collection.lifecycle is None:
        return
    props = current.properties[0]
    naar = "ingetrokken" if actor.role == PARTICIPATION else "verwijderd"
    step = Step(props[collection.lifecycle[0]], naar, now(), actor.role, note)
    store.insert_derived(tx, STATUSWIJZIGINGEN, [_record(collection, feature_id, props, current.geometries[0], step)])


def _record(collection: Collection, feature_id, props: dict, geom, step: Step) -> tuple[dict, object]:
    if collection is PROJECTEN:
        public_since = step.tijdstip
    else:
        public_since = props["gepubliceerd"] and max(props["gepubliceerd"], step.tijdstip)
    record = {
        "collectie": collection.name,
        "object_id": feature_id,
        "titel": props["titel"],
        "van": step.van,
        "naar": step.naar,
        "tijdstip": step.tijdstip,
        "rol": step.rol,
        "toelichting": step.toelichting,
        "gepubliceerd": public_since,
    }
    return record, shapely.point_on_surface(geom)
