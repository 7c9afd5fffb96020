"""Settings of the service, read from the environment (prefix GEOSERVICE_)."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    """Where the store, configurations and client tokens are, and the public URL of the service."""

    store: str = "data/wijkplan.gpkg"
    config: str = "config/pygeoapi.yml"
    url: str = "http://127.0.0.1:5000"
    tokens: str = "config/tokens.yml"
    policy: str = "config/wijkplan.yml"
    maps: str = "data/maps"
    downloads: str = "data/downloads"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Settings from GEOSERVICE_STORE, _CONFIG, _URL, _TOKENS, _POLICY, _MAPS and _DOWNLOADS, then
        the overrides."""
        values = {f.name: os.environ[f"GEOSERVICE_{f.name.upper()}"]
                  for f in fields(cls) if f"GEOSERVICE_{f.name.upper()}" in os.environ}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
