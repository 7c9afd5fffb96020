"""Synthetic wijkplan projects in bulk, for benchmarks: valid features of every geometry kind spread
over the municipality, drawn with numpy (vectorised), loaded through the store's own insert."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from geoservice.domain.model import FASEN, PROJECT_SOORTEN, SYSTEM, THEMAS
from geoservice.store import Query, Store
from geoservice.store.history import Step

BATCH = 50_000
MOMENT = "2026-01-15T10:00:00Z"  # when synthetic proposals were submitted and moderated


def _points_inside(rng, area, count: int) -> np.ndarray:
    """count random points inside area (x, y arrays)."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    found = np.empty((0, 2))
    while len(found) < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(count * 2, 2))
        found = np.vstack([found, xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]])
    return np.round(found[:count], 2)


def _geometries(rng, area, count: int) -> np.ndarray:
    """A third points, a third short street lines, a third small squares, all inside the area."""
    inner = area.buffer(-150)
    xy = _points_inside(rng, inner, count)
    kind = rng.integers(0, 3, count)
    geoms = shapely.points(xy)
    lines = kind == 1
    steps = rng.uniform(-40, 40, size=(lines.sum(), 2, 2))
    starts = xy[lines][:, None, :]
    geoms[lines] = shapely.linestrings(np.concatenate([starts, starts + np.cumsum(steps, axis=1)], axis=1))
    squares = kind == 2
    half = rng.uniform(5, 25, squares.sum())
    c = xy[squares]
    geoms[squares] = shapely.box(c[:, 0] - half, c[:, 1] - half, c[:, 0] + half, c[:, 1] + half)
    return geoms


def _properties(rng, count: int, offset: int) -> list[dict]:
    years = rng.integers(2025, 2033, count)
    days = rng.integers(0, 300, count)
    lengths = rng.integers(10, 200, count)
    themas = rng.choice(THEMAS, count)
    soorten = rng.choice(PROJECT_SOORTEN, count)
    fasen = rng.choice(FASEN, count)
    budgets = rng.integers(1, 400, count) * 5_000
    props = []
    for i in range(count):
        start = dt.date(int(years[i]), 1, 1) + dt.timedelta(days=int(days[i]))
        props.append(
            {
                "titel": f"Project {offset + i + 1}",
                "thema": str(themas[i]),
                "soort": str(soorten[i]),
                "fase": str(fasen[i]),
                "start": start.isoformat(),
                "eind": (start + dt.timedelta(days=int(lengths[i]))).isoformat(),
                "planjaar": int(years[i]),
                "budget_indicatie": int(budgets[i]),
                "afdeling": "Stadsbeheer",
                "bron": "benchmark: synthetisch",
            }
        )
    return props


def load(store: Store, count: int, seed: int = 1, progress=None) -> None:
    """Add count synthetic projects to a store that holds the buurten of the municipality."""
    rng = np.random.default_rng(seed)
    area = store.areas()[3]
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        store.insert("projecten", list(zip(_properties(rng, size, offset), _geometries(rng, area, size))))
        if progress:
            progress.update(size)


PROPOSAL_PATHS = (  # how far synthetic proposals got, and how often
    (("ingediend",), 0.1),
    (("ingediend", "gepubliceerd"), 0.7),
    (("ingediend", "gepubliceerd", "in uitwerking"), 0.2),
)


def load_proposals(store: Store, count: int, seed: int = 2, progress=None) -> None:
    """Add count synthetic proposals (points; most published, some worked out with a wijkbudget)."""
    rng = np.random.default_rng(seed)
    area = store.areas()[3].buffer(-150)
    paths = [path for path, _ in PROPOSAL_PATHS]
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        chosen = rng.choice(len(paths), size, p=[share for _, share in PROPOSAL_PATHS])
        budgets = rng.integers(5, 100, size) * 50
        props = [
            {
                "titel": f"Voorstel {offset + i + 1}",
                "soort": "initiatief",
                "categorie": "groen",
                "status": paths[k][-1],
                "wijkbudget": int(budget),
            }
            for i, (k, budget) in enumerate(zip(chosen, budgets))
        ]
        trails = [[Step(van, naar, MOMENT, SYSTEM) for van, naar in zip((None, *paths[k]), paths[k])] for k in chosen]
        xy = _points_inside(rng, area, size)
        store.insert("voorstellen", list(zip(props, shapely.points(xy))), trails=trails)
        if progress:
            progress.update(size)


def bbox_around(store: Store, wanted: int = 1_000) -> tuple[float, float, float, float]:
    """A square in RD around the centre of the municipality holding about `wanted` projects."""
    total = store.count("projecten")
    minx, miny, maxx, maxy = store.extent("buurten")
    share = wanted / total
    side = ((maxx - minx) * (maxy - miny) * share) ** 0.5
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2


__all__ = ["Query", "bbox_around", "load", "load_proposals"]
