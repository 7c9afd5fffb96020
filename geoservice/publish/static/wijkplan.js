/* The script of the neighbourhood maps. A map page calls wijkplan.start(spec, map, layerControl)
   once Leaflet has made its map; spec (written by geoservice/publish/maps.py) names the data files
   that hold the area's features (one per wijk, beside the wijk pages), how each layer looks, what
   popups and tables show, and from how many features on the map draws the service's vector tiles
   instead. The page's tables are filled from the same data. Every value reaches the page as text. */
"use strict";

var wijkplan = (function () {
  const escaped = (value) => String(value).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const present = (value) => value !== undefined && value !== null && value !== "";
  const shown = (value) => (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value) ? value.slice(0, 10) : value);

  async function fetched(url, json) {
    const answer = await fetch(url, { cache: "no-cache" }); // revalidated: the files change under the page
    if (!answer.ok) throw new Error(url + " answered " + answer.status);
    return json ? answer.json() : answer.text();
  }

  function loaded(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(src + " did not load"));
      document.head.appendChild(script);
    });
  }

  class Kaart {
    constructor(spec, map, control) {
      this.spec = spec;
      this.map = map;
      this.control = control;
      this.section = document.querySelector("section.wijkplan-tabel");
      this.fasen = null; // the phases of projects shown (null: all)
      this.years = []; // per planjaar: the layer and every shape it holds
      this.grids = [];
      this.addPhaseFilter();
    }

    async load() {
      const spec = this.spec;
      const stamp = fetched(spec.kaarten + spec.bijgewerkt).catch(() => ""); // none before the first round
      const parts = await Promise.all(spec.gegevens.map((code) => fetched(spec.kaarten + "wijk/" + code + ".json", true)));
      const features = parts.flatMap((part) => part.features).filter((f) => this.own(f.properties));
      if (features.length > spec.tegelsVanaf) await this.addTiles();
      else this.addFeatures(features);
      this.addTables(features);
      this.addUpdated(await stamp);
    }

    own(p) {
      return !this.spec.area || p[this.spec.area[0]] === this.spec.area[1];
    }

    drawn(p) {
      return this.own(p) && (p.laag !== "project" || !this.fasen || this.fasen.indexOf(p.fase) >= 0);
    }

    style(p, filled) {
      // (a tile's lines are never filled, whatever filled says)
      const look = this.spec.looks[p.laag];
      const colour = look.by ? look.colours[p[look.by]] : look.colour;
      return Object.assign({ color: colour, fillColor: colour, fill: filled !== false }, look.style);
    }

    popup(p) {
      const rows = this.spec.lines[p.laag].map((line) => {
        const values = line.slice(1).map((field) => p[field]).filter(present);
        return values.length ? "<br>" + escaped(line[0]) + ": " + escaped(values.map(shown).join(" – ")) : "";
      });
      const url = this.spec.root + "collections/" + this.spec.collections[p.laag] + "/items/" + encodeURIComponent(p.id);
      return "<b>" + escaped(p.titel) + "</b>" + rows.join("") + '<br><a href="' + url + '?f=html" target="_top">details</a>'
        + ' · <a href="' + url + '?f=json" target="_top">GeoJSON</a>';
    }

    overlay(layer, name) {
      layer.addTo(this.map);
      this.control.addOverlay(layer, name);
      return layer;
    }

    // -- features held in the data files ----------------------------------------------------
    addFeatures(features) {
      const of = (laag) => features.filter((f) => f.properties.laag === laag);
      const projects = of("project"), proposals = of("voorstel");
      const years = [...new Set(projects.map((f) => f.properties.planjaar))].sort((a, b) => a - b);
      this.years = years.map((year) => {
        const layer = this.overlay(this.layer(projects.filter((f) => f.properties.planjaar === year)), "Projecten " + year);
        return { layer: layer, shapes: layer.getLayers() };
      });
      const cluster = L.markerClusterGroup({ maxClusterRadius: 40 });
      cluster.addLayers(this.layer(proposals.filter((f) => f.geometry.type === "Point")).getLayers());
      this.overlay(cluster, "Voorstellen (punten)");
      this.overlay(this.layer(proposals.filter((f) => f.geometry.type !== "Point")), "Voorstellen (lijnen en vlakken)");
      this.overlay(this.layer(of("koppelkans")), "Koppelkansen");
    }

    layer(features) {
      return L.geoJSON({ type: "FeatureCollection", features: features }, {
        pointToLayer: (feature, latlng) => L.circleMarker(latlng),
        onEachFeature: (feature, shape) => {
          const p = feature.properties; // lines are not filled
          shape.setStyle(this.style(p, feature.geometry.type.indexOf("LineString") < 0));
          shape.bindPopup(this.popup(p));
          shape.bindTooltip(escaped(p.titel));
        },
      });
    }

    // -- features drawn from the service's vector tiles -------------------------------------
    async addTiles() {
      await loaded(this.spec.static + "/vectorgrid/Leaflet.VectorGrid.bundled.min.js");
      this.grids = Object.entries(this.spec.collections).map(([laag, collection]) => {
        const styles = {};
        styles[collection] = (p) => (this.drawn(p) ? this.style(p) : []);
        const url = this.spec.root + "collections/" + collection + "/tiles/WebMercatorQuad/{z}/{y}/{x}";
        const grid = L.vectorGrid.protobuf(url, {
          rendererFactory: L.canvas.tile,
          maxNativeZoom: 20,
          getFeatureId: (feature) => this.identified(feature, laag),
          vectorTileLayerStyles: styles,
        });
        return this.overlay(grid, collection.charAt(0).toUpperCase() + collection.slice(1));
      });
      // the tiles of each layer would hide the layers under it from the pointer: a click opens
      // the popup of the topmost feature drawn there
      this.map.on("click", (e) => {
        const shape = this.hit(e.layerPoint);
        if (shape) L.popup().setLatLng(e.latlng).setContent(this.popup(shape.properties)).openOn(this.map);
      });
    }

    identified(feature, laag) {
      const p = feature.properties;
      p.laag = laag;
      p.id = feature.id !== undefined ? feature.id : p.code;
      return p.id;
    }

    hit(point) {
      let found = null;
      this.grids.forEach((grid) => {
        Object.keys(grid._vectorTiles).filter((key) => grid._tiles[key]).forEach((key) => {
          const tile = grid._vectorTiles[key], at = point.subtract(tile.getOffset());
          Object.values(tile._features).forEach((drawn) => {
            if (!drawn.feature._pxBounds) drawn.feature.makeInteractive();
            if (drawn.feature._containsPoint(at)) found = drawn.feature;
          });
        });
      });
      return found;
    }

    // -- the phase filter -------------------------------------------------------------------
    addPhaseFilter() {
      const control = L.control({ position: "topleft" });
      control.onAdd = () => {
        const div = L.DomUtil.create("details", "leaflet-control-layers leaflet-control wijkplan-fasen wijkplan-inklap");
        div.innerHTML = '<summary>Fase</summary><fieldset><legend class="wijkplan-verborgen">Toon projecten in fase</legend></fieldset>';
        const fieldset = div.querySelector("fieldset");
        this.spec.fasen.forEach((fase) => {
          const label = document.createElement("label"), box = document.createElement("input");
          label.style.display = "block";
          box.type = "checkbox";
          box.value = fase;
          box.checked = true;
          label.append(box, " " + fase);
          fieldset.append(label);
        });
        L.DomEvent.disableClickPropagation(div);
        div.addEventListener("change", () => this.showPhases([...div.querySelectorAll("input:checked")].map((i) => i.value)));
        return div;
      };
      control.addTo(this.map);
    }

    showPhases(fasen) {
      this.fasen = fasen;
      this.grids.forEach((grid) => grid.redraw());
      this.years.forEach((year) => {
        year.layer.clearLayers();
        year.shapes.filter((shape) => fasen.indexOf(shape.feature.properties.fase) >= 0).forEach((shape) => year.layer.addLayer(shape));
      });
    }

    // -- under the map ----------------------------------------------------------------------
    addTables(features) {
      const tables = document.createDocumentFragment();
      Object.entries(this.spec.tables).forEach(([laag, [caption, columns]]) => {
        const rows = features.filter((f) => f.properties.laag === laag);
        const table = document.createElement("table"), title = document.createElement("b");
        title.textContent = caption;
        table.createCaption().append(title, " (" + rows.length + ")");
        const head = table.createTHead().insertRow();
        columns.forEach(([label]) => {
          const cell = document.createElement("th");
          cell.scope = "col";
          cell.textContent = label;
          head.append(cell);
        });
        const body = table.createTBody();
        rows.forEach((f) => {
          const row = body.insertRow();
          columns.forEach(([, field]) => {
            const value = f.properties[field];
            row.insertCell().textContent = present(value) ? shown(value) : "";
          });
        });
        tables.append(table);
      });
      this.section.append(tables);
    }

    addUpdated(stamp) {
      // "number time" of the last change the maps reflect
      const [number, moment] = stamp.trim().split(" "), when = new Date(moment);
      if (!/^\d+$/.test(number) || isNaN(when)) return; // none yet, or not a stamp
      const line = document.createElement("p");
      line.className = "wijkplan-bijgewerkt";
      line.textContent = "Bijgewerkt op " + when.toISOString().slice(0, 16).replace("T", " ") + " UTC (wijziging " + number + ")";
      this.section.querySelector("h1").after(line);
    }

    failed() {
      const line = document.createElement("p");
      line.setAttribute("role", "alert");
      line.textContent = "De kaart kon haar gegevens niet laden. Probeer het later opnieuw.";
      this.section.querySelector("h1").after(line);
    }

    ready() {
      this.section.setAttribute("aria-busy", "false");
      performance.mark("wijkplan-kaart");
    }
  }

  return {
    start: (spec, map, control) => {
      const kaart = new Kaart(spec, map, control);
      return kaart.load().catch(() => kaart.failed()).finally(() => kaart.ready());
    },
  };
})();
