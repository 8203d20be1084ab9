// The 15-minute circle's map: the region's district outlines, hexagons shaded (and outlined) by their uncovered demand, open stations as dots,
// suggested sites as numbered markers. Tiles only when a tile URL is configured; otherwise a plain background.
// Station names are typed by cadres of any district: they reach the page only as text (a text node), never as HTML.
(function () {
  "use strict";
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }
  function start() {
    var holder = document.getElementById("gh-coverage-map");
    var source = document.getElementById("gh-coverage-data");
    if (!holder || !source || typeof L === "undefined") return;
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { preferCanvas: true, zoomSnap: 0.5 });
    map.attributionControl.setPrefix(false);  // no link to Leaflet's website; a tile layer's credit still shows
    holder.ghMap = map;  // for the browser test and for debugging in the console
    holder.style.background = "#eef2f3";
    if (data.tiles.url) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, subdomains: data.tiles.subdomains, maxZoom: 18 }).addTo(map);
    }
    var layers = [];
    data.cells.forEach(function (cell) {
      var open = cell.demand - cell.covered;
      var share = cell.demand ? open / cell.demand : 0;
      var polygon = L.polygon(cell.boundary, {
        color: share > 0.5 ? "#b91c1c" : "#2563eb",
        weight: share > 0.5 ? 2 : 1,
        fillOpacity: 0.15 + 0.5 * share,
      }).bindTooltip(function () { return text("需求 " + cell.demand + "，已覆盖 " + cell.covered); });
      polygon.addTo(map);
      layers.push(polygon);
    });
    data.stations.forEach(function (s) {
      L.circleMarker([s.lat, s.lng], { radius: 4, color: "#15803d", weight: 2, fillOpacity: 0.9 }).bindTooltip(function () { return text(s.name); }).addTo(map);
    });
    data.suggestions.forEach(function (s, i) {
      var icon = L.divIcon({ className: "gh-suggestion", html: text(String(i + 1)), iconSize: [24, 24] });
      var title = "建议站点 " + (i + 1) + (s.place ? "（" + s.place + "）" : "") + "：新增覆盖 " + s.adds;
      layers.push(L.marker([s.lat, s.lng], { icon: icon, title: title }).addTo(map));
    });
    // The view holds every result: the demand cells and the suggested sites, with room for the markers at the edge
    // and no closer than street scale when the result is a single cell.
    if (layers.length) {
      map.fitBounds(L.featureGroup(layers).getBounds(), { padding: [24, 24], maxZoom: 15 });
    } else {
      map.fitBounds(data.bounds);
    }
    GhDistricts.draw(map, data.districts);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
