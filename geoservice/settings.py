"""Settings of the service: typed, validated, read from the environment (prefix GEOSERVICE_)."""

from __future__ import annotations

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "GEOSERVICE_"
API_PATH = "/v1"  # the API's base path under the service URL: its major version
MAPS_INTERVAL_S = 10.0  # how often a map builder catches up, unless told otherwise


class Settings(BaseSettings):
    """Where the store, configurations and client tokens are, where and how the service listens,
    and the limits that keep one client from holding up the others."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid")

    store: str = "data/wijkplan.gpkg"  # a GeoPackage path or a postgresql:// URL
    config: str = "config/pygeoapi.yml"
    url: str = "http://127.0.0.1:5000"  # the public URL of the service (links are made with it)
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1  # processes serving requests; they share rate limits, leases and caches through the store
    pool_size: int = 10  # PostgreSQL connections of one process
    threads: int = 0  # requests worked on at once in one process (0: one per core, at least two)
    tokens: str = "config/tokens.yml"
    policy: str = "config/wijkplan.yml"
    maps: str = "data/maps"
    # How often the map builder catches up with the change log: the data file of each wijk touched since
    # is written once, however many changes touched it. 0: `serve` starts no background process (run
    # `geoservice maps --follow` once beside the services instead; it then catches up every 10 s).
    maps_interval_s: float = MAPS_INTERVAL_S
    derive_interval_s: float = (
        1.0  # how often derived collections catch up (and are derived whole when due); 0: never in the background
    )
    webhooks_interval_s: float = 1.0  # how often new changes are queued and due webhooks delivered
    downloads: str = "data/downloads"
    query_budget_s: float = 10.0  # one read of features may take this long, then it is a 503
    max_head_bytes: int = 16 * 1024  # request line and headers; more is a 431
    head_timeout_s: float = 5.0  # the request head must arrive within this, else 408
    body_timeout_s: float = 15.0  # the body must arrive within this after the head, else 408
    keep_alive_s: float = 5.0  # an idle connection is closed after this
    max_connections: int = 2000  # open connections in all (at most what the process may open); beyond: 503
    connections_per_address: int = 100  # open connections from one address (0: no limit, behind a proxy)

    @field_validator("threads")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (one per core) or more")
        return value

    @field_validator("port")
    @classmethod
    def _a_port(cls, port: int) -> int:
        if not 0 < port < 65536:
            raise ValueError("a TCP port is from 1 to 65535")
        return port

    @field_validator("workers", "pool_size", "max_head_bytes", "max_connections")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @property
    def api_url(self) -> str:
        """Where the API is: the service URL and the API's base path (every link starts with it)."""
        return self.url.rstrip("/") + API_PATH

    def environment(self) -> dict[str, str]:
        """These settings as the GEOSERVICE_ variables that give them (for worker processes)."""
        return {f"{PREFIX}{name.upper()}": str(value) for name, value in self.model_dump().items()}

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from the GEOSERVICE_ variables, then the overrides given (None: not given); a
        value that is not valid stops the program with a message naming the variable."""
        try:
            return cls(**{name: value for name, value in overrides.items() if value is not None})
        except ValidationError as error:
            problems = "; ".join(f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
            raise SystemExit(problems) from None
