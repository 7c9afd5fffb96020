"""Derived collections kept current from the change log.

Koppelkansen and the wijk summaries are derived from projecten and voorstellen. Each derived
collection carries a stamp: the last change of the change log it reflects, and the year, policy
and moment it was derived under. A reader brings it up to the latest change by deriving again only
what the changes since then touched (the koppelkansen naming the features they name, the summaries
of the wijken they touched), in one short transaction. A reader never derives a collection whole
and never waits for that: a new policy, the turn of the year, a restore or a bulk load make the
background derive everything again, one process at a time, while the data derived before keeps
being served with its stamp.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

import orjson

from geoservice.derived import koppelkansen, summaries
from geoservice.domain.model import KOPPELKANSEN, WIJKEN
from geoservice.domain.policy import Policy
from geoservice.store import Query, Store, changes
from geoservice.store.changes import Change

DERIVED = ("koppelkansen", "wijken")
SOURCES = ("projecten", "voorstellen")
# The kinds of change of a source that can change each derived collection (a restore: everything).
TOUCHING = {
    "koppelkansen": (changes.CREATED, changes.CHANGED, changes.DELETED),
    "wijken": (changes.CREATED, changes.CHANGED, changes.DELETED, changes.SUPPORTED),
}
MOST_CHANGES = 1000  # changes behind beyond which deriving the whole is cheaper
MOST_FEATURES = 2000  # features named by the changes behind, likewise
WHOLE = "geheel"  # the row of afgeleid that holds the lease of a whole derivation
LEASE = dt.timedelta(minutes=15)  # after this another process may derive whole (one that stopped half-way)
DERIVED_HEADERS = ("Derived-Through-Change", "Derived-At")  # what answers say of the stamp of derived data
_FAILED: dict = {}  # (store, derived collection) -> the last change of a derivation that failed
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    """How far a derived collection is derived."""

    sequence: int  # the last change of the change log it reflects
    year: int
    policy: str  # the policy's fingerprint
    moment: str  # when it was derived (UTC, ISO 8601)

    def fits(self, policy: Policy, year: int) -> bool:
        return self.year == year and self.policy == policy.fingerprint


def stamp(store: Store, name: str) -> Stamp | None:
    """The stamp of a derived collection; None when it was never derived (as this service derives)."""
    rows = store.read("SELECT bron FROM afgeleid WHERE naam = ?", (name,))
    try:
        return Stamp(**orjson.loads(rows[0][0]))
    except (IndexError, TypeError, orjson.JSONDecodeError):
        return None


def headers(store: Store, name: str) -> dict:
    """The stamp of a derived collection as response headers (none for other collections)."""
    current = stamp(store, name) if name in DERIVED else None
    if current is None:
        return {}
    return dict(zip(DERIVED_HEADERS, (str(current.sequence), current.moment)))


def refresh(store: Store, policy: Policy, name: str, year: int | None = None) -> None:
    """Bring a derived collection up to the latest change by deriving what the changes since its
    stamp touched (what readers call; nothing for other collections). When only a whole derivation
    can bring it up to date, the data derived before stays: the background derives it whole."""
    if name not in DERIVED:
        return
    year = year or dt.date.today().year
    current = stamp(store, name)
    behind = _behind(store, current) if current is not None and current.fits(policy, year) else []
    if not behind or _too_many(behind):
        return  # current, or for the background to derive whole: no write transaction for a reader
    if _FAILED.get((store.location, name)) == store.last_change():
        return  # tried at this change already; tried again after the next one
    try:
        _derive_changes(store, policy, name, year)
    except Exception:
        _FAILED[(store.location, name)] = store.last_change()
        log.exception("deriving %s failed; the data derived before stays in place", name)


def keep_up(store: Store, policy: Policy, year: int | None = None) -> None:
    """Every derived collection current: whole where it must be (never derived, another policy or
    year, far behind), else by the changes (the background's and the command line's work)."""
    year = year or dt.date.today().year
    stamps = [stamp(store, name) for name in DERIVED]
    if any(s is None or not s.fits(policy, year) or _too_many(_behind(store, s)) for s in stamps):
        derive_whole(store, policy, year)
    for name in DERIVED:
        refresh(store, policy, name, year)


def derive_whole(store: Store, policy: Policy, year: int | None = None) -> bool:
    """Derive every derived collection whole, now; False when another process is at it."""
    year = year or dt.date.today().year
    if not _claim(store):
        return False
    try:
        sequence = store.last_change()  # what changes later is derived from the changes
        wijkcodes = [row[0] for row in store.totals(Query("wijken"), ("wijkcode",))]
        with store.transaction() as tx:
            for name in DERIVED:
                _hold(store, tx, name)
            appeared = _all_koppelkansen(store, tx, koppelkansen.every(store, policy, year))
            store.set_values(tx, WIJKEN, "wijkcode", summaries.of(store, policy, year, wijkcodes))
            for name, named in (("koppelkansen", appeared), ("wijken", [])):
                _write_stamp(tx, name, sequence, year, policy)
                store.announce(tx, name, changes.DERIVED, named, changes.EVERYWHERE, public=True)
    finally:
        _release(store)
    for name in DERIVED:
        _FAILED.pop((store.location, name), None)
    return True


def _all_koppelkansen(store: Store, tx, parts) -> list[str]:
    """Every stored koppelkans replaced by the parts' pairs, a part at a time; the codes that are new."""
    table = KOPPELKANSEN.name
    before = {code for (code,) in tx.execute(f'SELECT code FROM "{table}"').fetchall()}
    tx.execute(f'DELETE FROM "{table}"')
    appeared = []
    for pairs in parts:
        store.insert_derived(tx, KOPPELKANSEN, pairs)
        appeared += [props["code"] for props, _ in pairs if props["code"] not in before]
    return sorted(appeared)


# -- deriving what changed --------------------------------------------------------------
def _derive_changes(store: Store, policy: Policy, name: str, year: int) -> None:
    """One transaction: the changes behind the stamp (read again once the stamp's row is held, so
    that processes follow each other) derived, and the stamp moved on."""
    with store.transaction() as tx:
        _hold(store, tx, name)
        current = stamp(store, name)
        behind = _behind(store, current) if current is not None and current.fits(policy, year) else []
        if not behind or _too_many(behind):
            return
        named, areas = INCREMENTS[name](store, tx, policy, year, behind)
        _write_stamp(tx, name, behind[-1].sequence, year, policy)
        store.announce(tx, name, changes.DERIVED, named, areas, public=True)


def _koppelkansen_of_changes(store: Store, tx, policy: Policy, year: int, behind: list[Change]):
    """The koppelkansen naming a feature the changes name, derived again."""
    touched = {source: set() for source in SOURCES}
    for change in behind:
        if change.kind in TOUCHING["koppelkansen"]:
            touched[change.collection].update(change.ids)
    if not any(touched.values()):
        return [], set()
    condition, values = koppelkansen.naming(touched["projecten"], touched["voorstellen"])
    pairs = koppelkansen.around(store, policy, year, touched["projecten"], touched["voorstellen"])
    return _replace_koppelkansen(store, tx, condition, values, pairs)


def _summaries_of_changes(store: Store, tx, policy: Policy, year: int, behind: list[Change]):
    """The parts of the summaries the changes touched (of the wijken they touched, the part their
    collection feeds) counted again."""
    wijkcodes = {row[0] for row in store.totals(Query("wijken"), ("wijkcode",))}
    values = defaultdict(dict)
    for source, count in summaries.PARTS.items():
        touched = set().union(*(c.areas for c in behind if c.collection == source and c.kind in TOUCHING["wijken"]))
        for code, part in count(store, policy, sorted(touched & wijkcodes)).items():
            values[code].update(part)
    store.set_values(tx, WIJKEN, "wijkcode", values)
    return [], set()


INCREMENTS = {"koppelkansen": _koppelkansen_of_changes, "wijken": _summaries_of_changes}


def _replace_koppelkansen(store: Store, tx, condition: str, values: tuple, pairs: list) -> tuple[list, set]:
    """The stored koppelkansen naming changed features (the condition) replaced by pairs: the codes
    of those that were not there before, and the areas of every one replaced (its title, years or
    place may have changed with the features it names)."""
    table = KOPPELKANSEN.name
    before = tx.execute(f'SELECT code, wijkcode, buurtcode FROM "{table}" WHERE {condition}', values).fetchall()
    tx.execute(f'DELETE FROM "{table}" WHERE {condition}', values)
    store.insert_derived(tx, KOPPELKANSEN, pairs)
    codes = [props["code"] for props, _ in pairs]
    after = []
    for start in range(0, len(codes), 500):
        part = codes[start : start + 500]
        marks = ", ".join("?" * len(part))
        after += tx.execute(f'SELECT code, wijkcode, buurtcode FROM "{table}" WHERE code IN ({marks})', part).fetchall()
    gone = {code for code, _, _ in before}
    areas = changes.areas_of(*({"wijkcode": wijk, "buurtcode": buurt} for _, wijk, buurt in before + after))
    return sorted(code for code, _, _ in after if code not in gone), areas


# -- the stamp and the lease --------------------------------------------------------------
def _behind(store: Store, current: Stamp) -> list[Change]:
    """The changes of the sources after the stamp (at most one more than counts as too many)."""
    return changes.since(store, current.sequence, MOST_CHANGES + 1, SOURCES)


def _too_many(behind: list[Change]) -> bool:
    """Whether deriving the changes would cost more than deriving the whole."""
    if len(behind) > MOST_CHANGES or any(c.areas is changes.EVERYWHERE for c in behind):
        return True
    return sum(len(c.ids) for c in behind) > MOST_FEATURES


def _hold(store: Store, tx, name: str) -> None:
    """The row of a derived collection (or of the lease), made when missing and held until the
    transaction ends."""
    tx.execute("INSERT INTO afgeleid (naam, bron) VALUES (?, '') ON CONFLICT DO NOTHING", (name,))
    store.lock_row(tx, "afgeleid", "naam", name)


def _write_stamp(tx, name: str, sequence: int, year: int, policy: Policy) -> None:
    moment = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    value = orjson.dumps({"sequence": sequence, "year": year, "policy": policy.fingerprint, "moment": moment})
    tx.execute("UPDATE afgeleid SET bron = ? WHERE naam = ?", (value.decode(), name))


def _claim(store: Store) -> bool:
    """Take the lease of a whole derivation, unless another process holds it."""
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as tx:
        _hold(store, tx, WHOLE)
        held_until = tx.execute("SELECT bron FROM afgeleid WHERE naam = ?", (WHOLE,)).fetchone()[0]
        if held_until and held_until > now.isoformat():
            return False
        tx.execute("UPDATE afgeleid SET bron = ? WHERE naam = ?", ((now + LEASE).isoformat(), WHOLE))
    return True


def _release(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("UPDATE afgeleid SET bron = '' WHERE naam = ?", (WHOLE,))
