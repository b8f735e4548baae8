"""The class report's own styles and its one script (inlined into the page, never fetched).

The script only improves a page that works without it: it makes the learner table sortable by
any column (a click; highest first for numbers; ``#sort=score:desc`` in the address sorts on
load, so a sorted view can be bookmarked) and opens a learner's report when a link points to
it. Everything else, the histograms included, is static HTML and SVG.
"""

CSS = """
header.class p { margin: .2rem 0; }
nav.toc a { margin-right: 1rem; }
.overview { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
dl.stats { display: grid; grid-template-columns: auto auto; gap: .15rem 1rem; margin: 0; }
dl.stats dt { color: var(--dim); } dl.stats dd { margin: 0; font-weight: 600;
  font-variant-numeric: tabular-nums; }
svg.histogram { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg.histogram .bar { fill: #54aeff; } svg.histogram .axis { stroke: #8c959f; }
svg.histogram .tick { fill: var(--dim); } svg.histogram .count { fill: #1f2328; }
svg.histogram line.mean { stroke: var(--fail); stroke-dasharray: 4 3; }
svg.histogram line.median { stroke: var(--miss); stroke-dasharray: 2 2; }
svg.histogram text.mean { fill: var(--fail); } svg.histogram text.median { fill: var(--miss); }
table.data { margin: .5rem 0 1rem; }
table.data th { border-bottom: 2px solid var(--line); white-space: nowrap; }
table.data td { border-bottom: 1px solid var(--line); }
table.data tbody tr:hover { background: var(--soft); }
.rate { display: inline-block; width: 6rem; height: .7rem; background: #ffebe9;
        border-radius: 3px; overflow: hidden; vertical-align: middle; margin-right: .4rem; }
.rate > span { display: block; height: 100%; background: var(--pass); }
section.exercise { border-top: 1px solid var(--line); margin-top: 1.2rem; }
section.exercise .cols { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
section.exercise .cols table { flex: 1 1 28rem; margin-top: 0; }
figure { margin: 0; }
table.mistakes td.example { max-width: 38rem; }
table.mistakes td.example .msg { display: block; color: #1f2328; }
table.sortable th button.sort { all: unset; cursor: pointer; font-weight: 700; }
table.sortable th button.sort::after { content: " ↕"; color: #8c959f; }
table.sortable th[aria-sort=ascending] button.sort::after { content: " ▲"; color: #1f2328; }
table.sortable th[aria-sort=descending] button.sort::after { content: " ▼"; color: #1f2328; }
table.learners td .badge { min-width: 4.6em; }
details.learner { border-bottom: 1px solid var(--line); padding: .3rem 0; }
details.learner > summary { cursor: pointer; font-weight: 600; }
details.learner[open] > summary { margin-bottom: .5rem; }
details.learner:target, details.learner[open] { background: #fff; }
p.back { font-size: .9rem; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  function value(row, col, numeric) {
    var cell = row.cells[col], v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent.trim(); }
    if (!numeric) { return v.toLowerCase(); }
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sort(table, col, descending) {
    var head = table.tHead.rows[0].cells, body = table.tBodies[0];
    var numeric = head[col].getAttribute("data-type") === "number";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, col, numeric), y = value(b, col, numeric);
      var c = x < y ? -1 : (x > y ? 1 : 0);
      return (descending ? -c : c) ||
        (Number(a.getAttribute("data-index")) - Number(b.getAttribute("data-index")));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < head.length; i++) { head[i].removeAttribute("aria-sort"); }
    head[col].setAttribute("aria-sort", descending ? "descending" : "ascending");
    table.setAttribute("data-sorted",
      head[col].getAttribute("data-key") + (descending ? ":desc" : ":asc"));
  }
  function setup(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = "sort by this column";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var descending = now ? now === "ascending" : th.getAttribute("data-type") === "number";
        sort(table, col, descending);
        try {
          history.replaceState(null, "", "#sort=" + th.getAttribute("data-key") +
                               (descending ? ":desc" : ":asc"));
        } catch (e) { /* some viewers forbid it; the sort still happened */ }
      });
    });
    var wanted = /^#sort=([^:]+)(?::(asc|desc))?$/.exec(decodeURIComponent(location.hash));
    if (wanted) {
      var head = table.tHead.rows[0].cells;
      for (var i = 0; i < head.length; i++) {
        if (head[i].getAttribute("data-key") === wanted[1]) { sort(table, i, wanted[2] === "desc"); }
      }
    }
    table.setAttribute("data-ready", "true");
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    for (var el = id && document.getElementById(id); el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), setup);
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
"""
