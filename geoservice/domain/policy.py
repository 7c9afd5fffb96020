"""What the municipality configures (config/wijkplan.yml): participation rules, the distances of
the koppelkansen, the yearly wijkbudget per wijk, the base map of the maps and where webhooks may
call."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Limits:
    """Writes per minute per client; anonymous submissions per address per hour."""

    indienen: int = 60
    steunen: int = 600
    reageren: int = 120
    anoniem_per_uur: int = 5


@dataclass(frozen=True)
class Participation:
    anoniem_indienen: bool = False
    vergelijkbaar_binnen_m: float = 150
    vergelijkbaar_vanaf: float = 0.25
    woning_raster_m: float = 50
    limieten: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Koppelkansen:
    afstand_m: float = 25
    horizon_jaren: int = 4
    projecten_binnen_jaren: int = 2
    projecten_marge_m: float = 5
    projecten_overlap_m2: float = 50


@dataclass(frozen=True)
class Wijkbudget:
    standaard: int = 50_000
    per_wijk: dict = field(default_factory=dict)

    def of(self, wijkcode: str) -> int:
        return int(self.per_wijk.get(wijkcode, self.standaard))


@dataclass(frozen=True)
class Maps:
    ondergrond: str = "pdok"  # the base map: pdok (BRT-Achtergrondkaart) or osm (OpenStreetMap)
    tegels_vanaf: int = 2000  # a map with more features than this draws them from the vector tiles


@dataclass(frozen=True)
class Webhooks:
    """Where callbacks may go (host names, IP addresses or networks; a loopback or private address
    only when it is listed itself), how long a delivery is tried, and how long one attempt may take."""

    toegestane_hosts: tuple[str, ...] = ()
    proberen_uren: float = 24
    eerste_wachttijd_s: float = 10  # the wait after the first failure; it doubles after each next one
    time_out_s: float = 5

    def __post_init__(self):
        object.__setattr__(self, "toegestane_hosts", tuple(str(h).lower() for h in self.toegestane_hosts))


@dataclass(frozen=True)
class Policy:
    deelname: Participation = field(default_factory=Participation)
    koppelkansen: Koppelkansen = field(default_factory=Koppelkansen)
    wijkbudget: Wijkbudget = field(default_factory=Wijkbudget)
    kaarten: Maps = field(default_factory=Maps)
    webhooks: Webhooks = field(default_factory=Webhooks)

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """The policy in a YAML file (defaults for what it leaves out; the defaults when absent)."""
        path = Path(path)
        document = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
        participation = dict(document.get("deelname") or {})
        participation["limieten"] = Limits(**(participation.get("limieten") or {}))
        return cls(
            Participation(**participation),
            Koppelkansen(**(document.get("koppelkansen") or {})),
            Wijkbudget(**(document.get("wijkbudget") or {})),
            Maps(**(document.get("kaarten") or {})),
            Webhooks(**(document.get("webhooks") or {})),
        )

    @functools.cached_property
    def fingerprint(self) -> str:
        """Changes whenever the policy does (derived data depends on it); computed once."""
        return hashlib.sha256(repr(asdict(self)).encode()).hexdigest()[:16]
