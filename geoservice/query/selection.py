"""What a read asks of a store (a Query) and what it gets back (a Page)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Query:
    """What to select from a collection: a filter (pygeofilter nodes, geometries in the storage
    CRS), the order as [(field, ascending)], and the page (limit None: every row)."""

    collection: str
    filter: object = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    offset: int = 0
    limit: int | None = 100
    published_only: bool = True
    owner: str | None = None  # a participant (key) who also sees their own unpublished proposals
    budget_s: float | None = None  # the longest the read may take
    after: int | None = None  # keyset paging: only features after this one in the default order (no sortby)

    @classmethod
    def every(cls, collection: str, filter: object = None, published_only: bool = True) -> Query:
        """All rows of a collection that match, in id order."""
        return cls(collection, filter, limit=None, published_only=published_only)


@dataclass
class Page:
    """Selected features as columns, and how many matched in all."""

    ids: list
    properties: list[dict]
    geometries: np.ndarray
    number_matched: int

    def first(self, count: int) -> Page:
        """The first count features of the page."""
        return Page(self.ids[:count], self.properties[:count], self.geometries[:count], self.number_matched)
