"""What leaves the service as documents: GeoJSON and JSON-FG, downloads, maps, the QGIS project, the catalogue."""
