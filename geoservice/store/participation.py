"""Support and reactions: who supports a proposal is private, how many do is public.

Every change holds the proposal's row first (the GeoPackage's write lock, or FOR UPDATE), then
recounts: `steun` and `reacties` stay exact however many clients write at once, on both backends.
"""

from __future__ import annotations

from geoservice.domain import lifecycle
from geoservice.domain.model import REACTIE_STATUSSEN, VOORSTELLEN, Collection
from geoservice.domain.validation import ValidationError, check_text
from geoservice.store import changes
from geoservice.store.private import Actor, audit, now
from geoservice.store.references import check_merge_target

MAX_REACTION_LENGTH = 2000


class NoSuchProposal(KeyError):
    """No public proposal (or reaction) with that id."""


def _public_status(store, tx, feature_id) -> str:
    """Lock a public proposal and tell its status; NoSuchProposal when there is none."""
    if not store.lock_row(tx, VOORSTELLEN.name, "fid", feature_id):
        raise NoSuchProposal(f"voorstellen/{feature_id}")
    status, published = tx.execute(
        "SELECT status, gepubliceerd FROM voorstellen WHERE fid = ?", (feature_id,)
    ).fetchone()
    if published is None:
        raise NoSuchProposal(f"voorstellen/{feature_id}")
    return status


def _announce(store, tx, feature_id, kind: str, public: bool = True) -> None:
    """Announce a change of a proposal's support or reactions, with the proposal's areas."""
    store.announce(tx, VOORSTELLEN.name, kind, [feature_id], _areas(tx, feature_id), public)


def _areas(tx, feature_id) -> set[str]:
    """The wijk and buurt codes of a proposal."""
    return {
        c
        for c in tx.execute("SELECT wijkcode, buurtcode FROM voorstellen WHERE fid = ?", (feature_id,)).fetchone()
        if c
    }


def _recount(store, tx, feature_id) -> tuple[int, int]:
    tx.execute(
        "UPDATE voorstellen SET steun = (SELECT count(*) FROM steunbetuigingen WHERE voorstel = ?), "
        "reacties = (SELECT count(*) FROM reacties WHERE voorstel = ? AND status = 'gepubliceerd') "
        "WHERE fid = ?",
        (feature_id, feature_id, feature_id),
    )
    store.touch(tx, VOORSTELLEN.name, [])
    return tuple(tx.execute("SELECT steun, reacties FROM voorstellen WHERE fid = ?", (feature_id,)).fetchone())


def support(store, feature_id: int, actor: Actor) -> tuple[bool, int]:
    """Add the participant's support (at most once): (whether it is new, the support count)."""
    with store.transaction() as tx:
        status = _public_status(store, tx, feature_id)
        lifecycle.check_supportable(status)
        added = (
            tx.execute(
                "INSERT INTO steunbetuigingen (voorstel, deelnemer, tijdstip) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (feature_id, actor.participant, now()),
            ).rowcount
            > 0
        )
        count, _ = _recount(store, tx, feature_id)
        if added:
            audit(tx, actor, "steunen", VOORSTELLEN.name, [feature_id])
            _announce(store, tx, feature_id, changes.SUPPORTED)
    return added, count


def withdraw_support(store, feature_id: int, actor: Actor) -> tuple[bool, int]:
    """Remove the participant's support: (whether there was any, the support count)."""
    with store.transaction() as tx:
        _public_status(store, tx, feature_id)
        removed = (
            tx.execute(
                "DELETE FROM steunbetuigingen WHERE voorstel = ? AND deelnemer = ?", (feature_id, actor.participant)
            ).rowcount
            > 0
        )
        count, _ = _recount(store, tx, feature_id)
        if removed:
            audit(tx, actor, "steun intrekken", VOORSTELLEN.name, [feature_id])
            _announce(store, tx, feature_id, changes.SUPPORTED)
    return removed, count


def supported(store, feature_id: int, participant: str) -> bool:
    return bool(
        store.read("SELECT 1 FROM steunbetuigingen WHERE voorstel = ? AND deelnemer = ?", (feature_id, participant))
    )


def react(store, feature_id: int, actor: Actor, text) -> int:
    """A reaction to a public proposal, waiting for moderation; its id."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("tekst: required")
    check_text("tekst", text, MAX_REACTION_LENGTH)
    with store.transaction() as tx:
        _public_status(store, tx, feature_id)
        reaction_id = tx.execute(
            "INSERT INTO reacties (voorstel, client, deelnemer, tekst, status, ingediend) "
            "VALUES (?, ?, ?, ?, 'ingediend', ?) RETURNING id",
            (feature_id, actor.client, actor.participant, text, now()),
        ).fetchall()[0][0]
        audit(tx, actor, "reageren", "reacties", [reaction_id])
        _announce(store, tx, feature_id, changes.REACTED, public=False)
    return reaction_id


def moderate_reaction(store, feature_id: int, reaction_id: int, status, actor: Actor) -> int:
    """Publish or reject a reaction; the proposal's count of published reactions."""
    if status not in REACTIE_STATUSSEN:
        raise ValidationError(f"status: {status!r} is not one of {', '.join(REACTIE_STATUSSEN)}")
    with store.transaction() as tx:
        _public_status(store, tx, feature_id)
        row = tx.execute(
            "SELECT status FROM reacties WHERE id = ? AND voorstel = ?", (reaction_id, feature_id)
        ).fetchone()
        if row is None:
            raise NoSuchProposal(f"voorstellen/{feature_id}/reacties/{reaction_id}")
        lifecycle.check_reaction_transition(row[0], status)
        published = now() if status == "gepubliceerd" else None
        tx.execute("UPDATE reacties SET status = ?, gepubliceerd = ? WHERE id = ?", (status, published, reaction_id))
        _, count = _recount(store, tx, feature_id)
        audit(tx, actor, f"reactie {status}", "reacties", [reaction_id])
        _announce(store, tx, feature_id, changes.REACTED, public="gepubliceerd" in (status, row[0]))
    return count


def reactions(store, feature_id: int, everything: bool = False) -> list[dict]:
    """The reactions to a proposal, oldest first: the published ones, or all for moderation."""
    where = "" if everything else " AND status = 'gepubliceerd'"
    rows = store.read(
        f"SELECT id, tekst, status, ingediend, gepubliceerd FROM reacties WHERE voorstel = ?{where} ORDER BY id",
        (feature_id,),
    )
    return [dict(zip(("id", "tekst", "status", "ingediend", "gepubliceerd"), row)) for row in rows]


def published_reactions(store, proposals: list | None = None) -> list[dict]:
    """The published reactions (to these proposals, or to all), oldest first: id, proposal, text and
    when it was published."""
    among = "" if proposals is None else f" AND voorstel IN ({', '.join('?' * len(proposals)) or 'NULL'})"
    rows = store.read(
        f"SELECT id, voorstel, tekst, gepubliceerd FROM reacties WHERE status = 'gepubliceerd'{among} ORDER BY id",
        tuple(proposals or ()),
    )
    return [dict(zip(("id", "voorstel", "tekst", "gepubliceerd"), row)) for row in rows]


def follow_merge(store, tx, collection: Collection, feature_id, old: dict, new: dict) -> None:
    """A proposal merged into another: the target must exist, and takes over its support."""
    if collection is not VOORSTELLEN or new["status"] != "samengevoegd" or old["status"] == "samengevoegd":
        return
    target = new["samengevoegd_met"]
    check_merge_target(store, tx, feature_id, target)
    tx.execute(
        "INSERT INTO steunbetuigingen (voorstel, deelnemer, tijdstip) SELECT ?, deelnemer, tijdstip "
        "FROM steunbetuigingen WHERE voorstel = ? ON CONFLICT DO NOTHING",
        (target, feature_id),
    )
    _recount(store, tx, target)
    _announce(store, tx, target, changes.SUPPORTED)


def load(store, supports: list[tuple[int, str, str]], reactions: list[tuple[int, str, str, str]], actor: Actor) -> None:
    """Bulk-load history: supports (proposal, participant key, time) and published reactions
    (proposal, text, submitted, published); the counts follow."""
    with store.transaction() as tx:
        for fid, participant, moment in supports:
            tx.execute(
                "INSERT INTO steunbetuigingen (voorstel, deelnemer, tijdstip) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (fid, participant, moment),
            )
        for fid, text, submitted, published in reactions:
            tx.execute(
                "INSERT INTO reacties (voorstel, client, tekst, status, ingediend, gepubliceerd) "
                "VALUES (?, ?, ?, 'gepubliceerd', ?, ?)",
                (fid, actor.client, text, submitted, published),
            )
        fids = sorted({s[0] for s in supports} | {r[0] for r in reactions})
        areas = set()
        for fid in fids:
            _recount(store, tx, fid)
            areas |= _areas(tx, fid)
        if fids:
            store.announce(tx, VOORSTELLEN.name, changes.SUPPORTED, fids, areas, True)
