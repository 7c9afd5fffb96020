// The map of a page's features: GeoJSON from the page's data block, drawn with Leaflet. Titles are
// set as text (never as HTML), so what residents wrote stays text.
(function () {
  "use strict";
  var element = document.getElementById("kaart");
  var block = document.getElementById("kaart-data");
  if (!element || !block || !window.L) { return; }
  var data = JSON.parse(block.textContent);
  var map = L.map(element, { scrollWheelZoom: false });
  element.kaart = map;  // for the filter form's "map view as bbox"
  L.tileLayer(element.dataset.tiles, { attribution: element.dataset.attribution, maxZoom: 19 }).addTo(map);

  function label(feature) {
    var title = feature.properties && feature.properties[element.dataset.titleField];
    var text = document.createElement("span");
    text.textContent = String(title === undefined || title === null ? feature.id : title);
    return text;
  }

  function link(feature) {
    var anchor = document.createElement("a");
    anchor.href = element.dataset.itemsPath + "/" + encodeURIComponent(feature.id) + "?f=html";
    anchor.appendChild(label(feature));
    return anchor;
  }

  var layer = L.geoJSON(data, {
    pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 6 }); },
    onEachFeature: function (feature, shape) {
      shape.bindTooltip(label(feature));
      if (element.dataset.itemsPath) { shape.bindPopup(link(feature)); }
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, { maxZoom: 17 }); } else { map.setView([52.1, 5.3], 7); }
}());
