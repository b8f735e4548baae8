"""The class report in a real browser: headless Chromium (Debian's ``chromium``, which .ci/run
installs) opens the file, runs its script under its own Content-Security-Policy, and we read the
DOM it leaves behind and the screenshot it takes. One browser launch does both."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import subprocess

import pytest

from gradcheck_cli.classroom.page import class_report_html

WINDOW = (1280, 2400)
# Measures what the screenshot shows; runs after the page's own script (it comes later).
PROBE = """(function () {
  var out = {viewport: [innerWidth, innerHeight]};
  ["score-histogram", "exercise-table", "learner-table"].forEach(function (id) {
    var r = document.getElementById(id).getBoundingClientRect();
    out[id] = {top: r.top, left: r.left, width: r.width, height: r.height};
  });
  out.bars = Array.prototype.map.call(document.querySelectorAll("#score-histogram rect.bar"),
    function (b) { return b.getBoundingClientRect().height; });
  document.body.setAttribute("data-layout", JSON.stringify(out));
})();"""


pytestmark = pytest.mark.needs("chromium")     # skipped where it is missing, but in CI


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: .ci/run installs Debian's chromium package"
    return found


def open_in_chromium(url: str, profile, screenshot) -> str:
    """The DOM of ``url`` after its scripts ran; a screenshot of the window on the way."""
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=5000",
         f"--screenshot={screenshot}", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def _with_probe(page: str) -> str:
    """The page with PROBE appended, and allowed by the page's CSP next to its own script."""
    digest = base64.b64encode(hashlib.sha256(PROBE.encode()).digest()).decode()
    page = page.replace("script-src 'sha256-", f"script-src 'sha256-{digest}' 'sha256-", 1)
    return page.replace("</body>", f"<script>{PROBE}</script>\n</body>", 1)


def test_the_report_sorts_and_draws_in_a_real_browser(graded_class, tmp_path, parse_html):
    page = tmp_path / "class.html"
    page.write_text(_with_probe(class_report_html(graded_class.results)), encoding="utf-8")
    shot = tmp_path / "class.png"
    dom = parse_html(open_in_chromium(page.as_uri() + "#sort=score:desc", tmp_path / "profile",
                                      shot))

    # The page's own script ran (its hash in the CSP is right): sort buttons, sorted by score.
    table = dom.by_id("learner-table")
    assert table.attrs.get("data-ready") == "true" and table.attrs["data-sorted"] == "score:desc"
    heads = table.find("thead").find_all("th")
    assert all(th.find_all("button", cls="sort") for th in heads)
    assert [th.attrs.get("aria-sort") for th in heads][:2] == [None, "descending"]
    rows = table.find("tbody").find_all("tr")
    order = [(-float(r.find_all("td")[1].attrs["data-value"]), int(r.attrs["data-index"]))
             for r in rows]
    assert order == sorted(order) and len(rows) == graded_class.size   # ties in class order
    assert [i for _, i in order] != sorted(i for _, i in order)        # it did move rows

    # The screenshot shows the histogram and both tables, drawn with real sizes.
    layout = json.loads(dom.find("body").attrs["data-layout"])
    width, height = layout["viewport"]
    assert width == WINDOW[0] and 0.8 * WINDOW[1] < height <= WINDOW[1]
    for ident in ("score-histogram", "exercise-table", "learner-table"):
        box = layout[ident]
        assert box["width"] > 200 and box["height"] > 100 and 0 <= box["top"] < height, ident
    totals = [float(r.find_all("td")[1].attrs["data-value"]) for r in rows]
    bars = dom.by_id("score-histogram").find_all("rect", cls="bar")
    heights = {int(b.attrs["data-count"]): h for b, h in zip(bars, layout["bars"])}
    assert max(heights) == max(totals.count(t) for t in set(totals))
    assert all((h > 0) == (count > 0) for count, h in heights.items())
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == WINDOW


MARKERS = """(function () {
  var out = [];
  document.querySelectorAll("svg.histogram").forEach(function (svg) {
    var box = svg.getBoundingClientRect(), labels = [];
    svg.querySelectorAll("text.marker").forEach(function (t) {
      var r = t.getBoundingClientRect();
      labels.push([r.left - box.left, r.top - box.top, r.right - box.left, r.bottom - box.top]);
    });
    out.push({width: box.width, height: box.height, labels: labels});
  });
  document.body.setAttribute("data-markers", JSON.stringify(out));
})();"""


def test_the_mean_and_median_labels_never_overlap_nor_leave_the_chart(tmp_path, parse_html):
    """Mean and median close together, at either end of the scale, in either order: drawn by
    a real browser, their labels' boxes stay apart and inside the chart."""
    from gradcheck_cli.classroom.assets import CSS
    from gradcheck_cli.classroom.charts import histogram_svg
    from gradcheck_cli.classroom.summary import Bin

    bins = [Bin(k, k, c, str(k)) for k, c in enumerate((9, 3, 1, 0, 0, 2))]
    charts = "".join(histogram_svg(bins, top=5, label="scores", mean=mean, median=median)
                     for mean, median in ((1.57, 0.0), (0.0, 0.4), (4.9, 5.0), (5.0, 4.6),
                                          (2.5, 2.5), (0.2, 4.8)))
    page = tmp_path / "charts.html"
    page.write_text(f"<!doctype html><html><head><style>{CSS}</style></head><body>{charts}"
                    f"<script>{MARKERS}</script>"
                    "</body></html>", encoding="utf-8")
    dom = parse_html(open_in_chromium(page.as_uri(), tmp_path / "profile",
                                      tmp_path / "charts.png"))
    drawn = json.loads(dom.find("body").attrs["data-markers"])
    assert len(drawn) == 6
    for chart in drawn:
        (a, b) = chart["labels"]
        for x0, y0, x1, y1 in (a, b):
            assert 0 <= x0 < x1 <= chart["width"] and 0 <= y0 < y1 <= chart["height"], chart
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, chart
