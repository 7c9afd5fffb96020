"""Work repeated in the background (derived data and maps catching up with the change log,
webhooks being delivered), each in a thread of its own, so that nothing waits for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from geoservice.derived import derivation
from geoservice.domain.policy import Policy
from geoservice.store import Store

log = logging.getLogger(__name__)


class Repeating:
    """Runs work every interval_s seconds until stopped; a failed round is logged, the next one runs."""

    def __init__(self, name: str, work: Callable[[], object], interval_s: float):
        self.name, self.work, self.interval_s = name, work, interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait_s: float = 3.0) -> None:
        """No further rounds; a round still running gets wait_s seconds to end (work that stops
        half-way writes nothing: every round commits at its end, or not at all)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(wait_s)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                self.work()
            except Exception:  # a failed round must not stop later ones
                log.exception("%s: a round failed", self.name)


def deriving(store: Store, policy: Policy, interval_s: float) -> Repeating:
    """The derived collections catching up with the change log every interval_s seconds (derived
    whole when due: a new policy or year, a bulk load, a restore)."""
    return Repeating("afleiden", lambda: derivation.keep_up(store, policy), interval_s)
