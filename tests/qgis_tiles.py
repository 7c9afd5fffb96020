"""Run by the system Python with Debian's python3-qgis (QGIS 3.22): show a collection's vector tiles
as one QGIS vector tile layer (areas red, lines green, points blue) over an extent in EPSG:3857,
and print, as JSON, whether the layer is valid and how many pixels it drew in each colour."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

application = QgsApplication([], False)
application.initQgis()
template, minx, miny, maxx, maxy = sys.argv[1], *map(float, sys.argv[2:6])
layer = QgsVectorTileLayer(f"type=xyz&url={template}&zmin=0&zmax=20", "tiles")
renderer = QgsVectorTileBasicRenderer()
red, green, blue = QColor(255, 0, 0), QColor(0, 255, 0), QColor(0, 0, 255)
renderer.setStyles(QgsVectorTileBasicRenderer.simpleStyle(red, red, 0.0, green, 0.5, blue, blue, 2.0))
layer.setRenderer(renderer)

settings = QgsMapSettings()
settings.setLayers([layer])
settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
settings.setExtent(QgsRectangle(minx, miny, maxx, maxy))
settings.setOutputSize(QSize(512, 512))
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setFlag(QgsMapSettings.Antialiasing, False)
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
counts = {"areas": 0, "lines": 0, "points": 0}
colours = {red.rgb(): "areas", green.rgb(): "lines", blue.rgb(): "points"}
for y in range(image.height()):
    for x in range(image.width()):
        kind = colours.get(image.pixel(x, y))
        if kind:
            counts[kind] += 1
print(json.dumps({"valid": layer.isValid(), "pixels": counts, "errors": [str(e) for e in job.errors()]}))
