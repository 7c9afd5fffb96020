"""What the processes serving one store share through it, so that N workers behave as one service.

- Leases: work one process at a time does for all (bringing the maps up to date, delivering the
  webhooks of a subscription). A lease is taken for a while and given back when done; one its
  holder never gives back (a crash) runs out.
- Rate windows: the moments of the last hits of each rate-limited key (a moving window), at most
  as many as the limit allows; a key's row goes once its window has passed.
"""

from __future__ import annotations

import time

LEASES, WINDOWS = "bezettingen", "limieten"
NAMES = (LEASES, WINDOWS)
TABLES = (
    f"CREATE TABLE IF NOT EXISTS {LEASES} (naam TEXT PRIMARY KEY, door TEXT, tot {{number}})",
    f"CREATE TABLE IF NOT EXISTS {WINDOWS} (sleutel TEXT PRIMARY KEY, momenten TEXT NOT NULL, verloopt {{number}})",
)


def create_tables(tx, types: dict) -> None:
    for statement in TABLES:
        tx.execute(statement.format(number=types["number"]))


def claim(store, name: str, holder: str, seconds: float) -> bool:
    """Take the lease called name for seconds (or hold it longer), unless another holds it."""
    now = time.time()
    with store.transaction() as tx:
        tx.execute(f"INSERT INTO {LEASES} (naam) VALUES (?) ON CONFLICT (naam) DO NOTHING", (name,))
        taken = tx.execute(
            f"UPDATE {LEASES} SET door = ?, tot = ? WHERE naam = ? AND (tot IS NULL OR tot < ? OR door = ?) "
            "RETURNING naam",
            (holder, now + seconds, name, now, holder),
        ).fetchall()
    return bool(taken)


def release(store, name: str, holder: str) -> None:
    """Give the lease back (if this holder still has it)."""
    with store.transaction() as tx:
        tx.execute(f"UPDATE {LEASES} SET door = NULL, tot = NULL WHERE naam = ? AND door = ?", (name, holder))


def hit(store, key: str, allowed: int, window_s: float) -> float | None:
    """Count a hit on key if fewer than allowed fell in the last window_s seconds: None then,
    else the seconds until the next hit would be counted."""
    now = time.time()
    with store.transaction() as tx:
        tx.execute(f"DELETE FROM {WINDOWS} WHERE verloopt < ?", (now,))
        tx.execute(
            f"INSERT INTO {WINDOWS} (sleutel, momenten, verloopt) VALUES (?, '', ?) ON CONFLICT (sleutel) DO NOTHING",
            (key, now + window_s),
        )
        store.lock_row(tx, WINDOWS, "sleutel", key)
        stored = tx.execute(f"SELECT momenten FROM {WINDOWS} WHERE sleutel = ?", (key,)).fetchall()[0][0]
        moments = [float(m) for m in stored.split() if float(m) > now - window_s]
        if len(moments) >= allowed:
            return max(0.0, moments[-allowed] + window_s - now)
        moments = [*moments, now][-allowed:]
        tx.execute(
            f"UPDATE {WINDOWS} SET momenten = ?, verloopt = ? WHERE sleutel = ?",
            (" ".join(repr(m) for m in moments), now + window_s, key),
        )
    return None
