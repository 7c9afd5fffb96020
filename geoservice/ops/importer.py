"""Loading a municipality's own data: wijken, buurten, projecten or voorstellen from GeoPackage,
Shapefile, GeoJSON (read with pyogrio) or CSV with x/y columns (RD or WGS84), through a field
mapping, with the CRS detected and transformed with pyproj.

Every row is checked like the API checks a write; the report lists each rejected row with its
reason. By default nothing is stored when any row is rejected. Each feature keeps where it came
from in `bron` (`<file>#<key>`), so importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml
from tqdm import tqdm

from geoservice.domain.model import TABLES, Collection
from geoservice.domain.validation import ValidationError, check_geometries, check_properties
from geoservice.query import crs
from geoservice.store import Query, Store

WGS84_BOUNDS = (2.0, 50.0, 8.0, 54.0)  # lon/lat around the Netherlands
RD_BOUNDS = (-8_000.0, 280_000.0, 300_000.0, 640_000.0)


class SourceError(ValueError):
    """The file or the mapping cannot be read as asked."""


@dataclass
class Mapping:
    """How a source file maps to a collection: field names, fixed values, key, layer, x/y, CRS."""

    velden: dict = field(default_factory=dict)  # target field: source column
    vast: dict = field(default_factory=dict)  # target field: fixed value for every row
    sleutel: str | None = None  # the source column that identifies a row (default: its number)
    laag: str | None = None
    x: str = "x"
    y: str = "y"
    crs: str | None = None

    @classmethod
    def load(cls, path: str | Path | None) -> Mapping:
        if path is None:
            return cls()
        return cls(**(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}))


@dataclass
class Report:
    """The outcome: rows read, stored, left as they were, and every rejected row with its reason."""

    read: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        summary = (
            f"{self.read} rows read, {self.stored} stored, {self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        return [summary, *(f"row {row}: {reason}" for row, reason in self.rejected)]


def read_source(path: Path, mapping: Mapping) -> gpd.GeoDataFrame:
    """The rows of a file as a GeoDataFrame in the storage CRS (RD New)."""
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in (mapping.x, mapping.y) if c not in frame.columns]
        if missing:
            raise SourceError(f"{path.name}: no column(s) {', '.join(missing)} for x/y")
        x = pd.to_numeric(frame.pop(mapping.x), errors="coerce")
        y = pd.to_numeric(frame.pop(mapping.y), errors="coerce")
        geometry = gpd.GeoSeries(shapely.points(x, y), crs=mapping.crs or _guess_crs(x, y))
        data = gpd.GeoDataFrame(frame, geometry=geometry)
    else:
        try:
            data = pyogrio.read_dataframe(path, layer=mapping.laag)
        except Exception as error:
            raise SourceError(f"{path.name}: {error}") from None
        if data.crs is None:
            bounds = data.total_bounds
            data = data.set_crs(mapping.crs or _guess_crs(bounds[[0, 2]], bounds[[1, 3]]))
        elif mapping.crs:
            data = data.set_crs(mapping.crs, allow_override=True)
    return data.to_crs(crs.STORAGE)


def _guess_crs(x, y) -> str:
    """RD New or WGS84, from where the coordinates lie."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    for name, (minx, miny, maxx, maxy) in (("EPSG:4326", WGS84_BOUNDS), (crs.STORAGE, RD_BOUNDS)):
        if len(x) and (x >= minx).all() and (x <= maxx).all() and (y >= miny).all() and (y <= maxy).all():
            return name
    raise SourceError("cannot tell the CRS from the coordinates; give crs: in the mapping")


def rows(data: gpd.GeoDataFrame, collection: Collection, mapping: Mapping, source: str) -> list[tuple[dict, object]]:
    """(properties, geometry) of each row, after the mapping; `bron` says where the row came from."""
    columns = {target: mapping.velden.get(target, target) for target in collection.field_map}
    keys = data[mapping.sleutel].astype(str) if mapping.sleutel else pd.Series(range(1, len(data) + 1)).astype(str)
    features = []
    for (_, row), key in zip(data.iterrows(), keys):
        props = {
            target: _value(collection, target, row[column])
            for target, column in columns.items()
            if column in row.index and not collection.field_map[target].derived
        }
        props.update(mapping.vast)
        if "bron" in collection.field_map and collection.id_field == "id":
            props["bron"] = f"{source}#{key}"
        features.append((props, row.geometry))
    return features


def _value(collection: Collection, name: str, value):
    """A cell as the field wants it (CSV gives text; empty cells are no value)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    kind = collection.field_map[name].kind
    if kind == "integer":
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return value  # refused by the check, naming the field
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if kind == "date" and hasattr(value, "date"):  # a date that the file's driver read as a moment
        return value.date().isoformat()
    if kind in ("date", "datetime") and hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def load(
    store: Store,
    path: str | Path,
    collection_name: str,
    mapping: Mapping | None = None,
    skip_invalid: bool = False,
    progress: bool = False,
) -> Report:
    """Check every row of a file, then store the valid ones: all of them, or none when any row is
    rejected (unless skip_invalid)."""
    path, mapping = Path(path), mapping or Mapping()
    collection = TABLES.get(collection_name)
    if collection is None or collection_name in ("koppelkansen", "statuswijzigingen"):
        raise SourceError(f"{collection_name}: not a collection to import into")
    features = rows(read_source(path, mapping), collection, mapping, path.name)
    report = Report(read=len(features))
    known = _known(store, collection, features)
    new, changed = [], []
    for number, (props, geometry) in enumerate(tqdm(features, desc="controleren", disable=not progress), start=1):
        try:
            checked = _check(store, collection, props, geometry)
        except ValidationError as error:
            report.rejected.append((number, str(error)))
            continue
        existing = known.get(_identity(collection, props))
        if existing is None:
            new.append((props, geometry))
        elif _same(collection, existing, checked, geometry):
            report.unchanged += 1
        else:
            changed.append((existing[0], props, geometry))
    if report.rejected and not skip_invalid:
        return report
    if new:
        store.insert(collection.name, new)
    for feature_id, props, geometry in changed:
        store.replace(collection.name, feature_id, props, geometry)
    report.stored = len(new) + len(changed)
    return report


def _check(store: Store, collection: Collection, props: dict, geometry) -> dict:
    if geometry is None or shapely.is_empty(geometry):
        raise ValidationError("geometry: missing")
    checked = check_properties(collection, props)
    boundary = None if collection.storage_geometry_type == "MULTIPOLYGON" else store.areas()[3]
    check_geometries(collection, [geometry], boundary)
    return checked


def _identity(collection: Collection, props: dict):
    return props.get(collection.id_field) if collection.id_field != "id" else props.get("bron")


def _known(store: Store, collection: Collection, features) -> dict:
    """The stored features the file's rows stand for: {identity: (id, properties, geometry)}."""
    wanted = {_identity(collection, p) for p, _ in features} - {None}
    page = store.query(Query.every(collection.name, published_only=False))
    return {
        identity: (fid, props, geometry)
        for fid, props, geometry in zip(page.ids, page.properties, page.geometries)
        if (identity := _identity(collection, props)) in wanted
    }


def _same(collection: Collection, existing, checked: dict, geometry) -> bool:
    _, stored, stored_geometry = existing
    given = {k: v for k, v in checked.items() if not collection.field_map[k].derived}
    return all(stored.get(k) == v for k, v in given.items()) and shapely.equals_exact(
        shapely.MultiPolygon([geometry])
        if collection.storage_geometry_type == "MULTIPOLYGON" and geometry.geom_type == "Polygon"
        else geometry,
        stored_geometry,
        tolerance=0.01,
    )
