"""The conformance classes the service implements (for the collections where they apply)."""

FEATURES = "http://www.opengis.net/spec/ogcapi-features-{part}/1.0/conf/{name}"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{name}"
JSON_FG = "http://www.opengis.net/spec/json-fg-1/0.2/conf/core"
TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}"
TILE_MATRIX_SETS = "http://www.opengis.net/spec/tms/2.0/conf/{name}"

CLASSES = [
    *(FEATURES.format(part=1, name=n) for n in ("core", "oas30", "html", "geojson")),
    FEATURES.format(part=2, name="crs"),
    *(
        FEATURES.format(part=3, name=n)
        for n in ("queryables", "queryables-query-parameters", "filter", "features-filter")
    ),
    *(
        CQL2.format(name=n)
        for n in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "case-insensitive-comparison",
            "basic-spatial-functions",
            "basic-spatial-functions-plus",
            "spatial-functions",
            "temporal-functions",
            "property-property",
        )
    ),
    # The draft's name of basic-spatial-functions, by which QGIS decides to send spatial filters.
    "http://www.opengis.net/spec/cql2/0.0/conf/basic-spatial-operators",
    # Part 4 applies to the collections whose OpenAPI paths offer the write methods.
    *(FEATURES.format(part=4, name=n) for n in ("create-replace-delete", "update", "features")),
    *(FEATURES.format(part=5, name=n) for n in ("schemas", "core-roles-features")),
    JSON_FG,
    *(TILES.format(name=n) for n in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30")),
    *(TILE_MATRIX_SETS.format(name=n) for n in ("tilematrixset", "json-tilematrixset")),
]
