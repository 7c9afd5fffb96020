// The filter form of an items page: "only what lies in the map view" puts the map's view into
// bbox, and fields left at "all" are not sent, so the address is the plain API call.
(function () {
  "use strict";
  var form = document.getElementById("filter");
  if (!form) { return; }
  var bbox = document.getElementById("filter-bbox");
  var useView = document.getElementById("filter-view");
  var map = document.getElementById("kaart");

  function view() {
    var bounds = map.kaart.getBounds();
    return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (n) { return n.toFixed(6); }).join(",");
  }

  form.addEventListener("submit", function () {
    if (!useView.checked) { bbox.value = ""; } else if (map && map.kaart) { bbox.value = view(); }
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name && element.value === "") { element.disabled = true; }
    });
  });
  window.addEventListener("pageshow", function () {  // back to the page: every field usable again
    Array.prototype.forEach.call(form.elements, function (element) { element.disabled = false; });
  });
}());
