"""The conformance classes the service implements (for the collections where they apply)."""

FEATURES = "http://www.opengis.net/spec/ogcapi-features-{part}/1.0/conf/{name}"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{name}"

CLASSES = [
    *(FEATURES.format(part=1, name=n) for n in ("core", "oas30", "html", "geojson")),
    FEATURES.format(part=2, name="crs"),
    *(FEATURES.format(part=3, name=n) for n in ("queryables", "queryables-query-parameters", "filter",
                                                 "features-filter")),
    *(CQL2.format(name=n) for n in ("cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
                                    "case-insensitive-comparison", "basic-spatial-functions",
                                    "basic-spatial-functions-plus", "spatial-functions", "temporal-functions",
                                    "property-property")),
    # Part 4 applies to the collections whose OpenAPI paths offer the write methods.
    *(FEATURES.format(part=4, name=n) for n in ("create-replace-delete", "update", "features")),
]
