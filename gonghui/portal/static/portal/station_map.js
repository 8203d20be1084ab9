// The station map: the region's districts as outlines, every open station as a dot; the phone's position or a tap on
// the map asks for the nearest stations, whose list the server renders (the same list the page shows for
// coordinates in its address). The view is then fitted to the asked point and every listed station.
// Station names are user text: the popup is built from DOM nodes, so a name reaches the page only as text.
(function () {
  "use strict";
  var ANY_ID = "00000000-0000-0000-0000-000000000000";
  var FIT = { padding: [28, 28], maxZoom: 16 };  // a station 50 m away is not shown at street-door scale
  function popup(detailUrl, station) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = detailUrl.replace(ANY_ID, encodeURIComponent(station.id));
    link.textContent = station.name;
    box.append(link, document.createElement("br"), station.kind);
    return box;
  }
  function point(element) {
    var lat = parseFloat(element.getAttribute("data-lat"));
    var lng = parseFloat(element.getAttribute("data-lng"));
    return isFinite(lat) && isFinite(lng) ? L.latLng(lat, lng) : null;
  }
  function start() {
    var holder = document.getElementById("station-map");
    var source = document.getElementById("station-data");
    var list = document.getElementById("station-nearest");
    var hint = document.getElementById("station-hint");
    var form = document.getElementById("station-filter");
    if (!holder || !source || typeof L === "undefined") return;
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { preferCanvas: true, zoomSnap: 0.25 });  // thousands of dots: one canvas
    map.attributionControl.setPrefix(false);  // no link to Leaflet's website; a tile layer's credit still shows
    holder.ghMap = map;  // for the browser test and for debugging in the console
    if (data.tiles.url) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, subdomains: data.tiles.subdomains, maxZoom: 18 }).addTo(map);
    }
    var dots = data.stations.map(function (s) {
      return L.circleMarker([s.lat, s.lng], { radius: 6, color: "#c8161d", weight: 2, fillOpacity: 0.8 })
        .bindPopup(function () { return popup(data.detail, s); })
        .addTo(map);
    });
    var here = null;
    // The listed stations and the asked point, from the list the server rendered.
    function fitToList() {
      var ol = document.getElementById("station-nearest-list");
      if (!ol) return false;
      var asked = point(ol);
      var points = asked ? [asked] : [];
      ol.querySelectorAll("li[data-lat]").forEach(function (li) {
        var p = point(li);
        if (p) points.push(p);
      });
      if (points.length < 2) return false;
      map.fitBounds(L.latLngBounds(points), FIT);
      return true;
    }
    if (!fitToList()) {
      if (dots.length) map.fitBounds(L.featureGroup(dots).getBounds(), FIT);
      else map.fitBounds(data.bounds);
    }
    GhDistricts.draw(map, data.districts);
    function lookUp(lat, lng) {
      if (here) here.remove();
      here = L.circleMarker([lat, lng], { radius: 8, color: "#1d4ed8", weight: 3, fillOpacity: 0.3 }).addTo(map);
      var params = new URLSearchParams(new FormData(form));
      params.set("lat", lat.toFixed(6));
      params.set("lng", lng.toFixed(6));
      return fetch(list.getAttribute("data-url") + "?" + params.toString(), { headers: { "HX-Request": "true" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          list.innerHTML = html;  // server-rendered, escaped by the template
          if (!fitToList()) map.setView([lat, lng], Math.max(map.getZoom(), 13));
          holder.ghFitted = (holder.ghFitted || 0) + 1;  // for the browser test: the view follows the list
        });
    }
    map.on("click", function (event) { lookUp(event.latlng.lat, event.latlng.lng); });
    document.getElementById("station-locate").addEventListener("click", function () {
      if (!navigator.geolocation) { hint.textContent = "此浏览器无法定位，请在地图上点选您的位置。"; return; }
      hint.textContent = "正在定位……";
      navigator.geolocation.getCurrentPosition(function (position) {
        hint.textContent = "已按您的位置查找。";
        lookUp(position.coords.latitude, position.coords.longitude);
      }, function () {
        hint.textContent = "没有获得定位权限，请在地图上点选您的位置。";
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
