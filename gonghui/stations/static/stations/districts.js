// The region's district outlines under the stations (the portal's map and the back office's coverage map): without
// a basemap on a closed network they tell a worker or a cadre where the dots are. The outlines are the site's own
// static file (stations/districts.geojson); each district is named by a label inside it, set as text.
(function () {
  "use strict";
  var STYLE = { color: "#64748b", weight: 1.5, opacity: 0.9, fill: true, fillColor: "#ffffff", fillOpacity: 0.35, interactive: false };
  function label(name) {
    var span = document.createElement("span");
    span.textContent = name;
    return span;
  }
  // Draws the outlines on `map` (under everything else) and resolves with the GeoJSON layer (null when the file is
  // missing). The layer is also kept on the map's container as ghDistricts, for the browser tests.
  function draw(map, url) {
    if (!url) return Promise.resolve(null);
    if (!map.getPane("ghDistricts")) {
      map.createPane("ghDistricts");
      map.getPane("ghDistricts").style.zIndex = 350;  // above tiles (200), below the overlay pane (400) with the dots
    }
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return null;
        var layer = L.geoJSON(data, {
          pane: "ghDistricts",
          renderer: L.svg({ pane: "ghDistricts" }),
          style: function () { return STYLE; },
        }).addTo(map);
        // Names as plain markers (not tooltips, which the maps keep for the dots): never clickable, in the same pane.
        var labels = L.layerGroup(data.features.filter(function (f) { return f.properties.label; }).map(function (f) {
          var icon = L.divIcon({ className: "gh-district-label", html: label(f.properties.name), iconSize: null });
          return L.marker(f.properties.label, { icon: icon, pane: "ghDistricts", interactive: false, keyboard: false });
        })).addTo(map);
        map.getContainer().ghDistrictLabels = labels;
        map.getContainer().ghDistricts = layer;
        return layer;
      })
      .catch(function () { return null; });
  }
  window.GhDistricts = { draw: draw };
})();
