"""Run by the system Python with Debian's python3-qgis (QGIS 3.22): open a QGIS project headless
and print, as JSON, its CRS and for every layer its collection, validity, feature count, renderer
and whether it has labels."""
import json
import os
import re
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsProject  # noqa: E402

application = QgsApplication([], False)
application.initQgis()
project = QgsProject.instance()
opened = project.read(sys.argv[1])
layers = {re.search(r"typename='([^']+)'", layer.source()).group(1): {
    "valid": layer.isValid(), "features": layer.featureCount(),
    "renderer": layer.renderer().type() if layer.renderer() else None,
    "labels": layer.labelsEnabled()} for layer in project.mapLayers().values()}
print(json.dumps({"opened": opened, "crs": project.crs().authid(), "layers": layers}))
application.exitQgis()
