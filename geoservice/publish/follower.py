"""Maps that follow the store: the change log tells which wijken public changes touched, and their
data files are written again, whichever process wrote (the service, `geoservice import`, a restore).

The maps folder remembers the last change its maps reflect (`volgnummer`: its number and time; the
pages show it). Catching up reads the changes after it, writes the data files of the wijken they
name (the pages load them) and the index, and then records the newest change read. Every page is
made again when the boundaries changed, when the pages were made by other code or settings, or when
the store's log no longer holds the recorded change (a restore, a new demo). One process at a time
catches up (a lease in the store), so several service processes write each change's maps once.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from geoservice.derived import derivation
from geoservice.domain.policy import Policy
from geoservice.publish import maps
from geoservice.publish.background import Repeating
from geoservice.store import Store, changes, shared

BATCH = 1000  # changes read at a time
BOUNDARIES = ("wijken", "buurten")
LEASE, LEASE_S = "kaarten", 600  # held while catching up; one a crashed process held runs out after this

log = logging.getLogger(__name__)


def rebuild(store: Store, policy: Policy, directory: str | Path, progress: bool = False) -> list[Path]:
    """Build every map, and remember the change they reflect."""
    derivation.keep_up(store, policy)  # what deriving announces comes before the change recorded
    newest = latest(store)  # read before the maps: a change during the build is applied next time
    written = maps.build(store, policy, directory, progress=progress)
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
    if reflected is not None and _change(store, reflected[0]) == reflected and maps.made_by(directory, policy.kaarten):
        derivation.keep_up(store, policy)  # what deriving the changes announces is read with them
        touched = _touched(store, reflected)
        if not touched.boundaries:
            return _refresh(store, policy, directory, reflected, touched)
    written = rebuild(store, policy, directory)
    log.info("kaarten: every page and data file written again (%d files)", len(written))
    return written


def _refresh(store: Store, policy: Policy, directory: Path, reflected: tuple, touched: Touched) -> list[Path]:
    """Write the data files of the wijken the changes touched, and record the newest change."""
    if touched.newest == reflected:
        return []
    written = []
    if touched.everywhere or touched.codes:
        written = maps.refresh(store, policy, directory, None if touched.everywhere else touched.codes)
        kilobytes = sum(path.stat().st_size for path in written) / 1000
        log.info(
            "kaarten: %d files (%.0f kB) written for changes %d to %d",
            len(written), kilobytes, reflected[0] + 1, touched.newest[0],
        )  # fmt: skip
    _record(directory, touched.newest)
    return written


@dataclass
class Touched:
    """What the public changes after a change touched."""

    newest: tuple[int, str]  # the newest change read
    codes: set[str] = field(default_factory=set)  # the wijken and buurten they name
    everywhere: bool = False  # whether they may touch any wijk
    boundaries: bool = False  # whether they changed wijken or buurten (which the pages draw)


def _touched(store: Store, applied: tuple) -> Touched:
    touched = Touched(applied)
    while batch := store.changes_since(touched.newest[0], BATCH):
        touched.newest = (batch[-1].sequence, batch[-1].moment)
        for change in batch:
            if change.public:
                touched.everywhere = touched.everywhere or change.areas is None
                touched.boundaries = touched.boundaries or (
                    change.collection in BOUNDARIES and change.kind != changes.DERIVED
                )
                touched.codes |= change.areas or set()
    return touched


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
        number, _, moment = (directory / maps.STAMP).read_text().partition(" ")
        return int(number), moment
    except (FileNotFoundError, ValueError):
        return None


def _record(directory: Path, change: tuple[int, str]) -> None:
    maps.write_whole(directory / maps.STAMP, f"{change[0]} {change[1]}")


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
