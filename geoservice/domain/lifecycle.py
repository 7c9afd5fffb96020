"""The life of a project and of a proposal, as the municipality describes it.

A project goes from planned through preparation and consultation to execution and done (`fase`).
A resident or business submits a proposal (`ingediend`); a moderator publishes it, rejects it or
merges it into another; the municipality works it out, carries it out and realises it (`status`).
While a proposal is public and open, participants support it and react to it; reactions are
published by a moderator first.

Who may do what: a participant sets only the fields of their own proposal, and only while it is
submitted; they may withdraw it while it is submitted or published. The municipality explains its
changes (`toelichting`); a submitter may add what only the municipality may see (`prive`).
"""

from __future__ import annotations

from geoservice.domain.model import ANONYMOUS, PARTICIPATION, SUPPORTABLE, Collection
from geoservice.domain.validation import Conflict, ValidationError

NOTE, PRIVATE = "toelichting", "prive"  # what a write may carry besides the feature
SUBMITTED = "ingediend"
EDITABLE_BY_SUBMITTER = (SUBMITTED,)
WITHDRAWABLE = (SUBMITTED, "gepubliceerd")
REACTION_TRANSITIONS = {SUBMITTED: ("gepubliceerd", "afgewezen"), "gepubliceerd": ("afgewezen",)}


class Forbidden(Exception):
    """The role (or the participant) may not do this."""


class NotVisible(KeyError):
    """A proposal that is not there for this participant (another's, unpublished)."""


def allowed_transition(collection: Collection, old: str, new: str) -> bool:
    """Whether the lifecycle of the collection allows going from old to new (staying is allowed)."""
    if collection.lifecycle is None:
        return True
    _, transitions = collection.lifecycle
    return old == new or new in transitions.get(old, ())


def check_transition(collection: Collection, old: dict, new: dict) -> None:
    """Refuse a phase/status change that the lifecycle does not allow."""
    if collection.lifecycle is None:
        return
    key, _ = collection.lifecycle
    if not allowed_transition(collection, old[key], new[key]):
        raise ValidationError(f"{key}: cannot go from {old[key]!r} to {new[key]!r}")


def is_submitter(role: str) -> bool:
    return role in (PARTICIPATION, ANONYMOUS)


def write_members(collection: Collection, role: str, creating: bool) -> set[str]:
    """What a body may carry besides the feature: the municipality explains its changes; a proposal's
    submitter may add, when submitting, what is for the municipality only."""
    private = (PRIVATE,) if creating and collection.participant_fields else ()
    return {*(() if is_submitter(role) else (NOTE,)), *private}


def as_submitted(collection: Collection, role: str, properties: dict, partial: bool = False) -> dict:
    """What a participant (or anonymous submitter) writes: only the fields a participant sets, and
    the status stays submitted. Others write as given."""
    if not is_submitter(role) or not collection.participant_fields:
        return properties
    status = properties.get("status", SUBMITTED)
    foreign = sorted(set(properties) - set(collection.participant_fields) - {"status"})
    if foreign or status != SUBMITTED:
        raise Forbidden(f"{', '.join(foreign or ['status'])}: set by the municipality, not by a participant")
    return properties if partial else {**properties, "status": SUBMITTED}


def participant_replacement(collection: Collection, properties: dict) -> dict:
    """A participant's replacement of their proposal: the fields they set; the municipality's stay."""
    return {name: properties.get(name) for name in collection.participant_fields}


def check_submitter_may(current: dict, owns: bool, statuses: tuple[str, ...], verb: str, where: str) -> None:
    """A participant changes (statuses EDITABLE_BY_SUBMITTER) or withdraws (WITHDRAWABLE) only their
    own proposal, and only in those statuses. Another's unpublished proposal does not exist for them."""
    if not owns:
        if current["gepubliceerd"] is None:
            raise NotVisible(where)
        raise Forbidden(f"only the participant who submitted a proposal may have it {verb}")
    if current["status"] not in statuses:
        raise Conflict(f"status: a proposal that is {current['status']} cannot be {verb} by its submitter")


def check_supportable(status: str) -> None:
    """Support goes to public proposals that are still open."""
    if status not in SUPPORTABLE:
        raise Conflict(f"steun: a proposal that is {status} cannot be supported")


def check_reaction_transition(old: str, new: str) -> None:
    """A reaction is published or rejected by a moderator; a published one can still be rejected."""
    if new != old and new not in REACTION_TRANSITIONS.get(old, ()):
        raise Conflict(f"status: cannot go from {old!r} to {new!r}")
