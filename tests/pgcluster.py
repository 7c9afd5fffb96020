"""A throwaway PostgreSQL cluster with PostGIS on a free loopback port (Debian's packages).

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql


def _bin() -> Path:
    """The newest installed PostgreSQL's programs (PG_BIN overrides)."""
    if "PG_BIN" in os.environ:
        return Path(os.environ["PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make system-packages` installs it")
    return found[-1].parent


BIN = _bin()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """initdb, pg_ctl start ... stop, and databases made from templates."""

    def __init__(self, kept: Path | None = None):
        """A throwaway cluster, or with kept: the cluster in that folder, made there once and left
        there when stopped (a benchmark's large data set)."""
        self.kept = kept
        if kept:
            kept.mkdir(parents=True, exist_ok=True)
        self.directory = kept or Path(tempfile.mkdtemp(prefix="wijkplan-pg-"))
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.directory)

    def start(self) -> Cluster:
        data = self.directory / "data"
        if not (data / "PG_VERSION").exists():
            self._init(data)
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")
        return self

    def _init(self, data: Path) -> None:
        self._run(
            str(BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def stop(self) -> None:
        if self.kept:  # a clean shutdown: the data stays for the next run
            self._run(str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")
            return
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of template if given); its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)
        return self.url(name)

    def shared_database(self, name: str, template: str) -> str:
        """A database made from template once, and the same one when asked again (for readers)."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return self.url(name)
        return self.create_database(name, template)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
