"""The pygeoapi feature provider of the store's collections.

pygeoapi reads from it what it shows about a collection (fields, queryables, schema); the
features themselves are served by the service's own routes (routes.py) from the same store.
"""

from __future__ import annotations

from pygeoapi.provider.base import BaseProvider, SchemaType

from geoservice.domain.model import COLLECTIONS


class StoreProvider(BaseProvider):
    """One collection of the store (named by the provider's `table`), described from the model."""

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.collection = COLLECTIONS[provider_def["table"]]
        self.id_field = self.collection.id_field
        self.title_field = self.collection.title_field
        self._fields = self.get_fields()

    def get_fields(self) -> dict:
        return {f.name: f.schema() for f in self.collection.fields}

    def get_schema(self, schema_type: SchemaType = SchemaType.item):
        """The JSON Schema of a feature's properties (writable ones only for create/replace/update)."""
        writable = schema_type != SchemaType.item
        properties = {f.name: f.schema() for f in self.collection.fields if not (writable and f.derived)}
        required = [f.name for f in self.collection.fields if f.required and not f.derived]
        schema = {"type": "object", "properties": properties}
        if schema_type in (SchemaType.create, SchemaType.replace):
            schema["required"] = required
        return "application/schema+json", schema
