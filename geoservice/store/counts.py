"""Row counts the database keeps for large tables written by one process at a time (the derived
koppelkansen): numberMatched of a read of the whole collection is then one row to read, not a count
over every row, also right after the table changed. Triggers keep them, whoever writes."""

from __future__ import annotations

from geoservice.domain.model import KOPPELKANSEN

TABLE = "aantallen"
COUNTED = (KOPPELKANSEN.name,)


def create(tx, triggers) -> None:
    """The counts table, each counted table's count as it is now, and the triggers that keep it
    (`triggers(table)`: the backend's statements); in the caller's transaction, which must keep
    other writers of the counted tables out until it ends."""
    tx.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (tabel TEXT PRIMARY KEY, rijen BIGINT NOT NULL)")
    for table in COUNTED:
        tx.execute(f"DELETE FROM {TABLE} WHERE tabel = ?", (table,))
        tx.execute(f'INSERT INTO {TABLE} (tabel, rijen) SELECT ?, count(*) FROM "{table}"', (table,))
        for statement in triggers(table):
            tx.execute(statement)


def rows(store, table: str) -> int:
    """The rows of a counted table."""
    return store.read(f"SELECT rijen FROM {TABLE} WHERE tabel = ?", (table,))[0][0]


def sqlite_triggers(table: str) -> list[str]:
    """SQLite: a row trigger for each row inserted and deleted."""
    return [
        f'CREATE TRIGGER IF NOT EXISTS "{table}_{name}" AFTER {event} ON "{table}" '
        f"BEGIN UPDATE {TABLE} SET rijen = rijen {sign} 1 WHERE tabel = '{table}'; END"
        for name, event, sign in (("erbij", "INSERT", "+"), ("eraf", "DELETE", "-"))
    ]


def postgresql_triggers(table: str) -> list[str]:
    """PostgreSQL: a statement trigger for each insert and delete, counting its transition table."""
    statements = []
    for name, event, sign, rows_of in (("erbij", "INSERT", "+", "NEW"), ("eraf", "DELETE", "-", "OLD")):
        function = f"{TABLE}_{name}"
        statements += [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$ "
            f"DECLARE changed bigint; BEGIN SELECT count(*) INTO changed FROM veranderd; "
            f"EXECUTE 'UPDATE ' || quote_ident(TG_TABLE_SCHEMA) || '.{TABLE} SET rijen = rijen {sign} $1 "
            f"WHERE tabel = $2' USING changed, TG_TABLE_NAME; RETURN NULL; END $body$",
            f'DROP TRIGGER IF EXISTS "{table}_{name}" ON "{table}"',
            f'CREATE TRIGGER "{table}_{name}" AFTER {event} ON "{table}" REFERENCING {rows_of} TABLE AS veranderd '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements
