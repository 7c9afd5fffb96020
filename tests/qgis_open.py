"""Run by the system Python with Debian's python3-qgis (QGIS 3.22): open a QGIS project headless
and print, as JSON, its CRS and for every layer its collection, group, validity, geometry type,
feature count, how many features it draws (those of the layer's geometry type), renderer and labels."""

import json
import os
import re
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsProject, QgsWkbTypes

application = QgsApplication([], False)
application.initQgis()
project = QgsProject.instance()
opened = project.read(sys.argv[1])
groups = {
    layer.layerId(): group.name() for group in project.layerTreeRoot().findGroups() for layer in group.findLayers()
}


def drawn(layer) -> int:
    """Features QGIS draws: their geometry is of the layer's geometry type."""
    kind = layer.geometryType()
    return sum(
        1
        for feature in layer.getFeatures()
        if feature.hasGeometry() and QgsWkbTypes.geometryType(feature.geometry().wkbType()) == kind
    )


layers = {
    re.search(r"typename='([^']+)'", layer.source()).group(1): {
        "valid": layer.isValid(),
        "features": layer.featureCount(),
        "drawn": drawn(layer),
        "geometry": QgsWkbTypes.geometryDisplayString(layer.geometryType()),
        "group": groups.get(layer.id()),
        "renderer": layer.renderer().type() if layer.renderer() else None,
        "labels": layer.labelsEnabled(),
    }
    for layer in project.mapLayers().values()
}
print(json.dumps({"opened": opened, "crs": project.crs().authid(), "layers": layers}))
application.exitQgis()
