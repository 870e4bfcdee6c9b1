// Draws the offender network of /graph with Cytoscape.js: fetches the
// elements from the API URL in #graph's data-src, colours nodes by kind
// (persons by community), sizes them by PageRank, dashes candidate
// same-as links. No inline script, nothing fetched from elsewhere.
(function () {
  "use strict";
  var box = document.getElementById("graph");
  var status = document.getElementById("graph-status");
  if (!box || typeof cytoscape !== "function") { return; }
  var palette = ["#1b6ca8", "#c0392b", "#27ae60", "#8e44ad", "#d35400",
    "#16a085", "#7f8c8d", "#b7950b", "#2c3e50", "#e84393"];
  var kindColour = {
    handle: "#5d6d7e", identifier: "#a04000", room: "#117a65",
    device: "#6c3483", media_series: "#7b7d7d"
  };
  function colour(n) {
    if (n.data("blind_hit")) { return "#000000"; }
    var k = n.data("kind");
    if (k === "person") {
      var c = n.data("community");
      return typeof c === "number" ? palette[c % palette.length] : "#1b6ca8";
    }
    return kindColour[k] || "#555555";
  }
  fetch(box.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) { throw new Error("the server answered " + r.status); }
      return r.json();
    })
    .then(function (body) {
      var nodes = body.elements.nodes || [];
      var maxRank = 0;
      nodes.forEach(function (n) { maxRank = Math.max(maxRank, n.data.pagerank || 0); });
      var cy = cytoscape({
        container: box,
        elements: body.elements,
        wheelSensitivity: 0.3,
        style: [
          { selector: "node", style: {
            "label": "data(label)", "font-size": 9, "color": "#222",
            "background-color": colour,
            "width": function (n) { return 12 + 36 * ((n.data("pagerank") || 0) / (maxRank || 1)); },
            "height": function (n) { return 12 + 36 * ((n.data("pagerank") || 0) / (maxRank || 1)); }
          } },
          { selector: "node.room", style: { "shape": "round-rectangle" } },
          { selector: "node.device", style: { "shape": "diamond" } },
          { selector: "edge", style: {
            "width": function (e) { return 1 + (e.data("weight") || 0); },
            "line-color": "#b3b6b7", "curve-style": "bezier",
            "target-arrow-shape": "triangle", "target-arrow-color": "#b3b6b7", "arrow-scale": 0.6
          } },
          { selector: "edge.same_as, edge.shared_media, edge.co_presence", style: { "target-arrow-shape": "none" } },
          { selector: "edge.operator_of, edge.host_of", style: { "line-color": "#c0392b", "target-arrow-color": "#c0392b" } },
          { selector: "edge.sent_files, edge.offered_files, edge.shared_media", style: { "line-color": "#d35400", "target-arrow-color": "#d35400" } },
          { selector: "edge.candidate", style: { "line-style": "dashed" } }
        ],
        layout: { name: nodes.length > 1500 ? "grid" : "cose", animate: false, randomize: false }
      });
      cy.on("tap", "node", function (ev) {
        var d = ev.target.data();
        status.textContent = d.label + " (" + d.kind + ")" +
          (d.held_by ? ", held by " + d.held_by : "") +
          (typeof d.degree === "number" ? ", degree " + d.degree : "") +
          (typeof d.community === "number" ? ", community " + d.community : "");
      });
      status.textContent = body.node_count + " nodes, " + body.edge_count +
        " edges. Select a node for details; scroll to zoom.";
    })
    .catch(function (e) { status.textContent = "The chart could not be loaded: " + e.message; });
}());
