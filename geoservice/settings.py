"""Settings of the service, read from the environment (prefix GEOSERVICE_)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

PREFIX = "GEOSERVICE_"


@dataclass(frozen=True)
class Settings:
    """Where the store, configurations and client tokens are, the public URL of the service, and
    the limits that keep one client from holding up the others."""

    store: str = "data/wijkplan.gpkg"
    config: str = "config/pygeoapi.yml"
    url: str = "http://127.0.0.1:5000"
    tokens: str = "config/tokens.yml"
    policy: str = "config/wijkplan.yml"
    maps: str = "data/maps"
    maps_interval_s: float = 1.0  # how often the maps catch up with the store's change log
    downloads: str = "data/downloads"
    query_budget_s: float = 10.0  # one read of features may take this long, then it is a 503
    max_head_bytes: int = 16 * 1024  # request line and headers; more is a 431
    head_timeout_s: float = 5.0  # the request head must arrive within this, else 408
    body_timeout_s: float = 15.0  # the body must arrive within this after the head, else 408
    keep_alive_s: float = 5.0  # an idle connection is closed after this
    max_connections: int = 2000  # open connections in all (at most what the process may open); beyond: 503
    connections_per_address: int = 100  # open connections from one address (0: no limit, behind a proxy)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from the GEOSERVICE_ variables (GEOSERVICE_STORE, GEOSERVICE_QUERY_BUDGET_S, ...),
        then the overrides."""
        types = {f.name: f.type for f in fields(cls)}
        values = {
            name: _typed(name, os.environ[PREFIX + name.upper()], types[name])
            for name in types
            if PREFIX + name.upper() in os.environ
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _typed(name: str, text: str, kind: str):
    converters = {"int": int, "float": float, "str": str}
    try:
        return converters[kind](text)
    except ValueError:
        raise SystemExit(f"{PREFIX}{name.upper()}: {text!r} is not a valid {kind}") from None
