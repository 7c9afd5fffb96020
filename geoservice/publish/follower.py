"""Maps that follow the store: the change log tells which areas public changes touched, and their
maps are rebuilt, whichever process wrote (the service, `geoservice import`, a restore).

The maps directory remembers the last change its maps reflect (`volgnummer`: its number and time).
Catching up reads the changes after it, rebuilds the maps of the wijken and buurten they name (and
the city), and then records the newest change read. A store whose log no longer holds that change
was replaced (a restore, a new demo): then every map is rebuilt. One process at a time catches up
(a lease in the store), so several service processes rebuild each change's maps once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

from geoservice.domain.policy import Policy
from geoservice.publish import maps
from geoservice.publish.background import Repeating
from geoservice.store import Store, shared

STATE = "volgnummer"  # in the maps directory: the number and time of the last change the maps reflect
BATCH = 1000  # changes read at a time
LEASE, LEASE_S = "kaarten", 600  # held while catching up; one a crashed process held runs out after this

log = logging.getLogger(__name__)


def rebuild(store: Store, policy: Policy, directory: str | Path, progress: bool = False) -> list[Path]:
    """Build every map, and remember the change they reflect."""
    newest = latest(store)  # read first: a change during the build is applied next time
    written = maps.build(store, policy, directory, progress=progress, reflects=newest)
    _record(Path(directory), newest)
    return written


def catch_up(store: Store, policy: Policy, directory: str | Path) -> list[Path]:
    """Rebuild the maps of the areas changed since the maps were last brought up to date (nothing
    before the maps exist, or while another process catches up); the maps written."""
    directory = Path(directory)
    if not (directory / "index.html").exists() or applied(directory) == latest(store):
        return []
    holder = uuid.uuid4().hex
    if not shared.claim(store, LEASE, holder, LEASE_S):
        return []
    try:
        return _catch_up(store, policy, directory)
    finally:
        shared.release(store, LEASE, holder)


def _catch_up(store: Store, policy: Policy, directory: Path) -> list[Path]:
    reflected = applied(directory)
    if reflected is None or _change(store, reflected[0]) != reflected:
        return rebuild(store, policy, directory)
    codes, everything, newest = _touched(store, reflected)
    if newest == reflected:
        return []
    written = []
    if everything or codes:
        written = maps.build(store, policy, directory, only=None if everything else codes, reflects=newest)
        log.info("kaarten: %d maps rebuilt for changes %d to %d", len(written), reflected[0] + 1, newest[0])
    _record(directory, newest)
    return written


def _touched(store: Store, applied: tuple) -> tuple[set[str], bool, tuple]:
    """The area codes that public changes after applied touched, whether they may touch all, and
    the newest change read."""
    codes, everything, newest = set(), False, applied
    while batch := store.changes_since(newest[0], BATCH):
        newest = (batch[-1].sequence, batch[-1].moment)
        for change in batch:
            if change.public:
                everything = everything or change.areas is None
                codes |= change.areas or set()
    return codes, everything, newest


def _change(store: Store, sequence: int) -> tuple[int, str]:
    """(number, time) of a change in the store's log; (0, "") for none."""
    found = store.changes_since(sequence - 1, 1) if sequence else []
    return (found[0].sequence, found[0].moment) if found and found[0].sequence == sequence else (0, "")


def latest(store: Store) -> tuple[int, str]:
    """(number, time) of the store's latest change; (0, "") before any."""
    return _change(store, store.last_change())


def applied(directory: Path) -> tuple[int, str] | None:
    """The number and time of the last change the maps in directory reflect (None: no maps)."""
    try:
        number, _, moment = (directory / STATE).read_text().partition(" ")
        return int(number), moment
    except (FileNotFoundError, ValueError):
        return None


def _record(directory: Path, change: tuple[int, str]) -> None:
    maps.write_whole(directory / STATE, f"{change[0]} {change[1]}")


def lag(store: Store, directory: Path) -> dict | None:
    """How far the maps are behind the change log: the change they reflect and how long the oldest
    change they do not reflect yet has waited (0: none); None when there are no maps."""
    reflected = applied(directory)
    if reflected is None:
        return None
    waiting = store.changes_since(reflected[0], 1)
    waited_s = (
        (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(waiting[0].moment)).total_seconds() if waiting else 0
    )
    return {"volgnummer": reflected[0], "tijdstip": reflected[1], "achter_s": round(max(waited_s, 0.0), 1)}


def map_follower(store: Store, policy: Policy, directory: str | Path, interval_s: float = 1.0) -> Repeating:
    """Catches the maps up with the store every interval_s seconds, in the background."""
    return Repeating("kaarten", lambda: catch_up(store, policy, Path(directory)), interval_s)
