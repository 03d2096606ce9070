// The map of the places of the current results (search page). Data comes from the
// json_script block #map-data; nothing inline, so a strict Content-Security-Policy holds.
(function () {
  "use strict";
  var source = document.getElementById("map-data");
  var container = document.getElementById("map");
  if (!source || !container || !window.L) return;
  var data = JSON.parse(source.textContent);
  if (!data.places.length) return;
  // Hidden without JavaScript: then the list of places beside the results does the job.
  document.getElementById("map-section").hidden = false;

  var map = L.map(container, { scrollWheelZoom: false, attributionControl: Boolean(data.tiles) });
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: data.attribution, maxZoom: 12 }).addTo(map);
  }
  // The outline lies below the markers and shows also when no tile can load (no network).
  map.createPane("outline").style.zIndex = 250;
  fetch(data.outline)
    .then(function (response) { return response.json(); })
    .then(function (outline) {
      L.geoJSON(outline, { pane: "outline", interactive: false, className: "map-outline" }).addTo(map);
    })
    .catch(function () { /* markers stay usable without the outline */ });

  var most = Math.max.apply(null, data.places.map(function (place) { return place.count; }));
  var bounds = L.latLngBounds([]);
  data.places.forEach(function (place) {
    // Area proportional to the count: 18 px for one entry, 56 px for the most.
    var size = Math.round(18 + 38 * Math.sqrt(place.count / most));
    var label = place.name + ": " + place.count + (place.count === 1 ? " Eintrag" : " Einträge");
    var icon = L.divIcon({ className: "map-place", iconSize: [size, size], html: String(place.count) });
    // Smaller circles above bigger ones, so that none is hidden under a neighbour.
    var marker = L.marker([place.lat, place.lon], {
      icon: icon, title: label, alt: label, keyboard: true, riseOnHover: true, zIndexOffset: (most - place.count) * 1000,
    });
    marker.on("click", function () { window.location.assign(place.href); });
    marker.addTo(map);
    bounds.extend([place.lat, place.lon]);
  });
  map.fitBounds(bounds.pad(0.2), { maxZoom: 7 });
  if (data.places.length === 1) map.setZoom(6);
})();
