"""The store interface and what every backend shares: validation, derived fields, the change log.

A store holds the collections of the domain model in EPSG:28992. Reads return columns (ids,
properties, shapely geometries) so that callers work vectorised; writes validate against the
domain model and run as one transaction each. Backends implement the primitives at the bottom.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import shapely

from geoservice.domain.lifecycle import check_transition
from geoservice.domain.model import SYSTEM, TABLES, Collection, Field
from geoservice.domain.validation import (
    ValidationError,
    check_geometries,
    check_properties,
    check_settable,
    format_datetime,
)
from geoservice.query.selection import Page
from geoservice.store import changes, history, participation, private, references, shared, subscriptions
from geoservice.store.private import Actor, Private
from geoservice.store.reading import DIMENSION, FeatureId, Guard, NotFound, StoreReader, Transaction

STORAGE_SRID = 28992
# Tables of the service beside the collections, which stores made before them get when opened.
ADDED_LATER = (subscriptions, shared)


SERVICE = Actor(SYSTEM, SYSTEM)


def column_sql(collection: Collection, f: Field, types: dict) -> str:
    """The column definition of a field, with the backend's type names."""
    unique = " UNIQUE" if f.name == collection.id_field else ""
    not_null = " NOT NULL" if f.required and not f.derived else ""
    return f'"{f.name}" {types[f.kind]}{not_null}{unique}'


def stored_columns(collection: Collection) -> list[str]:
    """The columns a table holds besides fid and geometry: the fields, and the dimension when mixed."""
    return [*(f.name for f in collection.fields), *((DIMENSION,) if collection.mixed else ())]


def with_dimensions(collection: Collection, geoms: np.ndarray, rows: list[list]) -> list[list]:
    """Rows of field values, with the dimension of each geometry when the collection is mixed."""
    if not collection.mixed:
        return rows
    return [[*row, int(dimension)] for row, dimension in zip(rows, shapely.get_dimensions(geoms))]


# Indexes that keep derived data cheap to follow: the koppelkansen naming a feature, and each
# wijk's summary counted from an index that holds the counted columns.
DERIVATION_INDEXES = {
    "koppelkansen_voorstel": ("koppelkansen", "voorstel"),
    "koppelkansen_project": ("koppelkansen", "project"),
    "koppelkansen_ander_project": ("koppelkansen", "ander_project"),
    "voorstellen_per_wijk": ("voorstellen", "wijkcode", "gepubliceerd", "status", "steun", "wijkbudget"),
    "projecten_per_wijk": ("projecten", "wijkcode", "planjaar", "fase", "budget_indicatie"),
}


def create_derivation_indexes(tx, names=DERIVATION_INDEXES) -> None:
    """The derivation indexes of these names (stores made before them get them when opened)."""
    for name in names:
        table, *columns = DERIVATION_INDEXES[name]
        listed = ", ".join(f'"{column}"' for column in columns)
        tx.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({listed})')


def indexed(f: Field) -> bool:
    """Fields worth an index: the ones filtered on most."""
    return bool(f.values) or f.name in ("wijkcode", "buurtcode", "planjaar")


def normalise(collection: Collection, geometries: Sequence) -> np.ndarray:
    """Geometries as the table stores them: areas always MultiPolygon."""
    geoms = np.asarray(geometries, dtype=object)
    if collection.storage_geometry_type == "MULTIPOLYGON":
        single = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    return geoms


class Store(StoreReader):
    """Writing and deriving, on top of a backend's primitives; reading is inherited."""

    # -- writing -----------------------------------------------------------------------
    def insert(
        self,
        collection_name: str,
        features: list[tuple[dict, object]],
        actor: Actor = SERVICE,
        details: list[Private] | None = None,
        trails: list[list[history.Step]] | None = None,
        note: str | None = None,
    ) -> list:
        """Validate and store new features [(properties, geometry)]; all or nothing. Returns their ids.

        details: per feature, what the submitter gave privately; trails: per feature, its history
        until now (default: created now by the actor, with note as its explanation)."""
        collection = TABLES[collection_name]
        for given, _ in features:
            check_settable(collection, given)
        props = [check_properties(collection, {**history.first_state(collection), **p}) for p, _ in features]
        located = self.checked_geometries(collection, [g for _, g in features])
        geoms = private.published_geometries(located, details)
        self._derive(collection, props, geoms)
        trails = trails or [history.created_now(collection, p, actor, note) for p in props]
        for p, trail in zip(props, trails):
            history.begin(collection, p, trail)
        with self.transaction() as tx:
            references.check_links(tx, collection, props)
            fids = self._insert_rows(tx, collection, geoms, [self._row(collection, p) for p in props])
            ids = fids if collection.id_field == "id" else [p[collection.id_field] for p in props]
            history.record_trails(self, tx, collection, ids, props, geoms, trails)
            private.remember(tx, ids, located, geoms, details, actor)
            private.audit(tx, actor, "aanmaken", collection.name, ids)
            self._announce_states(tx, collection, changes.CREATED, ids, *props)
        return ids

    def replace(
        self,
        collection_name: str,
        feature_id: FeatureId,
        properties: dict,
        geometry: shapely.Geometry,
        actor: Actor = SERVICE,
        note: str | None = None,
        guard: Guard | None = None,
    ) -> None:
        """Replace one feature whole, keeping the lifecycle rules of the domain.

        guard, when given, sees the current properties in the transaction and may refuse."""
        self._rewrite(
            collection_name, feature_id, actor, note, guard, properties, lambda current: (properties, geometry)
        )

    def update(
        self,
        collection_name: str,
        feature_id: FeatureId,
        properties: dict,
        geometry: shapely.Geometry | None = None,
        actor: Actor = SERVICE,
        note: str | None = None,
        guard: Guard | None = None,
    ) -> None:
        """Change some properties (None removes a value) and optionally the geometry."""
        if not isinstance(properties, dict):
            raise ValidationError("properties: expected an object")
        self._rewrite(
            collection_name,
            feature_id,
            actor,
            note,
            guard,
            properties,
            lambda current: (
                {**current.properties[0], **properties},
                current.geometries[0] if geometry is None else geometry,
            ),
        )

    def delete(
        self,
        collection_name: str,
        feature_id: FeatureId,
        actor: Actor = SERVICE,
        note: str | None = None,
        guard: Guard | None = None,
    ) -> None:
        collection = TABLES[collection_name]
        with self.transaction() as tx:
            current = self._locked(tx, collection, feature_id, guard)
            references.check_unreferenced(tx, collection, feature_id)
            self._delete_row(tx, collection, feature_id)
            history.record_deletion(self, tx, collection, feature_id, current, actor, note)
            private.forget(tx, collection, feature_id)
            private.audit(tx, actor, "verwijderen", collection.name, [feature_id])
            self._announce_states(tx, collection, changes.DELETED, [feature_id], current.properties[0])

    def _rewrite(
        self,
        collection_name: str,
        feature_id: FeatureId,
        actor: Actor,
        note: str | None,
        guard: Guard | None,
        given: dict,
        build: Callable[[Page], tuple[dict, shapely.Geometry]],
    ) -> None:
        """Replace a feature by what build makes of the current one, in one transaction that holds
        the feature's row: concurrent changes of one feature follow each other. given: the
        properties the writer gave."""
        collection = TABLES[collection_name]
        with self.transaction() as tx:
            current = self._locked(tx, collection, feature_id, guard)
            old = current.properties[0]
            check_settable(collection, given, old)
            properties, geometry = build(current)
            props = check_properties(collection, properties)
            [located] = self.checked_geometries(collection, [geometry])
            check_transition(collection, old, props)
            references.check_links(tx, collection, [props])
            _, shown = private.kept_generalised(tx, collection, feature_id, located, current.geometries[0])
            self._derive(collection, [props], [shown])
            moment = private.now()
            history.carry(collection, old, props, moment)
            self._update_row(tx, collection, feature_id, shown, self._row(collection, props))
            history.record_change(self, tx, collection, feature_id, old, props, shown, actor, note, moment)
            participation.follow_merge(self, tx, collection, feature_id, old, props)
            private.audit(tx, actor, "wijzigen", collection.name, [feature_id])
            self._announce_states(tx, collection, changes.CHANGED, [feature_id], old, props)

    def _locked(
        self, tx: Transaction, collection: Collection, feature_id: FeatureId, guard: Guard | None = None
    ) -> Page:
        """The current feature, its row held until the transaction ends and passed by the guard;
        NotFound when absent."""
        if not self.lock_row(tx, collection.name, self._key(collection), feature_id):
            raise NotFound(f"{collection.name}/{feature_id}")
        current = self.get(collection.name, feature_id, published_only=False)
        if guard is not None:
            guard(current.properties[0])
        return current

    def insert_derived(self, tx: Transaction, collection: Collection, features: list[tuple[dict, object]]) -> None:
        """Store features the service derived itself (checked, not bound to the municipality)."""
        props = [check_properties(collection, p) for p, _ in features]
        geoms = normalise(collection, [g for _, g in features])
        self._derive(collection, props, geoms)
        if len(geoms):
            self._insert_many(tx, collection, geoms, [self._row(collection, p) for p in props])
        self.touch(tx, collection.name, geoms)

    def set_values(self, tx: Transaction, collection: Collection, key: str, values: dict) -> None:
        """Set fields the service derives, per feature: values maps a key field's value to {field: value}."""
        for key_value, fields in values.items():
            assignments = ", ".join(f'"{name}" = ?' for name in fields)
            encoded = (self._encode_value(collection.field_map[name], value) for name, value in fields.items())
            tx.execute(f'UPDATE "{collection.name}" SET {assignments} WHERE "{key}" = ?', (*encoded, key_value))
        self.touch(tx, collection.name, [])

    def copy_in(self, tx: Transaction, collection: Collection, page: Page) -> None:
        """Store features read from another store as they were (ids kept where the id is the row's)."""
        if page.ids:
            fids = page.ids if collection.id_field == "id" else None
            rows = [self._row(collection, p) for p in page.properties]
            self._insert_many(tx, collection, page.geometries, rows, fids)

    # -- the change log ------------------------------------------------------------------
    def announce(
        self, tx: Transaction, collection: str, kind: str, ids: Sequence, areas: set[str] | None, public: bool
    ) -> None:
        """Append a change to the change log, as the last statement of the write's transaction."""
        self._serialise_announcements(tx)
        changes.append(tx, private.now(), collection, kind, ids, areas, public)

    def _announce_states(
        self, tx: Transaction, collection: Collection, kind: str, ids: Sequence, *states: dict
    ) -> None:
        """Announce a change of features given their states before and after."""
        self.announce(tx, collection.name, kind, ids, changes.areas_of(*states), changes.is_public(collection, *states))

    def checked_geometries(self, collection: Collection, geometries: Sequence) -> np.ndarray:
        """Geometries as stored, if valid and (but for areas) inside the municipality."""
        geoms = normalise(collection, geometries)
        boundary = None
        if collection.storage_geometry_type != "MULTIPOLYGON":  # areas make the municipality; the rest lie in it
            boundary = self.areas()[3]
            if boundary is None:
                raise ValidationError("the store has no buurten yet: load the boundaries first")
        check_geometries(collection, geoms, boundary)
        return geoms

    def _derive(self, collection: Collection, props: list[dict], geoms: np.ndarray) -> None:
        """Fill in the fields the service computes: location codes, area, time of the change."""
        fields = collection.field_map
        if "buurtcode" in fields and fields["buurtcode"].derived:
            buurtcodes, wijkcodes = self.locate(geoms)
            for p, b, w in zip(props, buurtcodes, wijkcodes):
                p["buurtcode"], p["wijkcode"] = b, w
        if "oppervlakte_ha" in fields:
            for p, area in zip(props, shapely.area(geoms)):
                p["oppervlakte_ha"] = round(float(area) / 10_000, 2)
        if "bijgewerkt" in fields:
            now = format_datetime(dt.datetime.now(dt.UTC))
            for p in props:
                p["bijgewerkt"] = now

    def _row(self, collection: Collection, props: dict) -> list:
        return [self._encode_value(f, props.get(f.name)) for f in collection.fields]

    # -- what a backend provides ---------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction, committed when the block succeeds, rolled back otherwise. It yields
        an object whose execute(sql, params) takes SQL with ? marks and returns a cursor. Reads in
        the same thread meanwhile run in the transaction."""
        raise NotImplementedError

    def _encode_value(self, f: Field, value: object) -> object:
        raise NotImplementedError

    def _insert_rows(
        self, tx: Transaction, collection: Collection, geoms: np.ndarray, rows: list[list], fids: Sequence | None = None
    ) -> list[int]:
        """Insert rows (and touch the table), with the fids given or new ones; the fids."""
        raise NotImplementedError

    def _insert_many(
        self, tx: Transaction, collection: Collection, geoms: np.ndarray, rows: list[list], fids: Sequence | None = None
    ) -> None:
        """Insert rows in bulk, where no new fids are needed (a backend may do it in one statement)."""
        self._insert_rows(tx, collection, geoms, rows, fids)

    def _serialise_announcements(self, tx: Transaction) -> None:
        """Keep the change log's numbers in commit order (a no-op where writers are serial)."""

    def continue_ids(self, tx: Transaction) -> None:
        """After rows were inserted with their own ids: new ids follow the largest."""
        raise NotImplementedError

    def _update_row(
        self, tx: Transaction, collection: Collection, feature_id: FeatureId, geom: shapely.Geometry, row: list
    ) -> None:
        raise NotImplementedError

    def _delete_row(self, tx: Transaction, collection: Collection, feature_id: FeatureId) -> None:
        raise NotImplementedError

    def lock_row(self, tx: Transaction, table: str, key: str, value: object) -> bool:
        """Hold a row against other writers until the transaction ends; whether it exists."""
        raise NotImplementedError

    def touch(self, tx: Transaction, table: str, geoms: np.ndarray) -> None:
        """Keep the backend's own record of the table current (time of change, extent widened by geoms)."""
        raise NotImplementedError
