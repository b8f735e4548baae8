"""The class report, parsed (not grepped): its numbers are the gradebook's and the JSONs', the
known mistakes of the synthetic class are there with the right counts, and nothing is fetched."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import statistics
from collections import Counter

import pytest

from gradcheck_cli.classroom.page import class_report_html
from gradcheck_cli.classroom.results import (ClassResults, ExerciseInfo, Member, gradebook_csv,
                                             read_results)

# The diagnosis each version of a function in tests/fixtures/class/ must get.
MISTAKE_OF = {"used_function": "used_function_not_derivative",
              "forgot_dz": "missing_upstream_gradient", "diagonal": "diagonal_jacobian_only",
              "flipped": "convolution_not_correlation", None: "missing_function"}


@pytest.fixture(scope="module")
def page(graded_class, parse_html):
    return parse_html(class_report_html(graded_class.results))


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _value(node) -> float | None:
    raw = node.attrs["data-value"] if "data-value" in node.attrs else node.attrs["value"]
    return float(raw) if raw != "" else None


def assert_learner_table_matches(doc, gradebook: str, exercises: list[str]) -> None:
    """Row by row, cell by cell: the HTML's learner table says what the gradebook says."""
    table = doc.by_id("learner-table")
    keys = [th.attrs["data-key"] for th in table.find("thead").find_all("th")]
    assert keys == ["name", "score", *(f"exercise-{e}" for e in exercises), "status"]
    rows = table.find("tbody").find_all("tr")
    book = _rows(gradebook)
    assert len(rows) == len(book)
    for tr, expected in zip(rows, book):
        cells = tr.find_all("td")
        assert cells[0].find("a").attrs["title"] == expected["submission"]
        total = expected["total"]
        assert _value(cells[1]) == (float(total) if total else None)
        for cell, name in zip(cells[2:], exercises):
            assert _value(cell) == (float(expected[name]) if expected[name] else None), name
        assert cells[-1].text() == expected["status"]


def test_learner_table_is_the_gradebook(page, graded_class):
    assert_learner_table_matches(page, graded_class.gradebook(),
                                 [e.name for e in graded_class.exercises])


def test_mean_median_and_histogram_are_the_gradebooks(page, graded_class):
    totals = [float(r["total"]) for r in _rows(graded_class.gradebook())]
    assert _value(page.by_id("learner-count")) == graded_class.size
    assert _value(page.by_id("mean")) == pytest.approx(statistics.fmean(totals), abs=1e-6)
    assert _value(page.by_id("median")) == pytest.approx(statistics.median(totals), abs=1e-6)
    bars = page.by_id("score-histogram").find_all("rect", cls="bar")
    counted = Counter(totals)
    # Whole points: one bar per possible total, 0 .. max, each with its count.
    assert [float(b.attrs["data-low"]) for b in bars] == [float(k) for k in range(len(bars))]
    assert {float(b.attrs["data-low"]): int(b.attrs["data-count"]) for b in bars} == \
        {float(k): counted.get(float(k), 0) for k in range(len(bars))}
    passed_all = sum(r["status"] == "passed" for r in _rows(graded_class.gradebook()))
    assert _value(page.by_id("passed-all")) == passed_all


def test_exercise_table_counts_the_json_results(page, graded_class):
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in graded_class.json_dir.glob("*.json")]
    assert len(docs) == graded_class.size
    for tr in page.by_id("exercise-table").find("tbody").find_all("tr"):
        name = tr.attrs["data-exercise"]
        results = [ex for d in docs for ex in d["exercises"] if ex["name"] == name]
        statuses = Counter(ex["status"] for ex in results)
        for cell in tr.find_all("td"):
            if "data-status" in cell.attrs:
                assert _value(cell) == statuses.get(cell.attrs["data-status"], 0), name
        rate = tr.find("td", data_key="pass-rate")
        assert _value(rate) == pytest.approx(statuses["passed"] / len(results), abs=1e-6)
        mean = tr.find("td", data_key="mean")
        assert _value(mean) == pytest.approx(statistics.fmean(ex["score"] for ex in results),
                                             abs=1e-6)


def test_the_known_mistakes_are_there_with_the_right_counts(page, graded_class):
    for name in [e.name for e in graded_class.exercises]:
        expected = Counter(MISTAKE_OF[graded_class.plan(i)[name]]
                           for i in range(graded_class.size)
                           if graded_class.plan(i)[name] != "right")
        section = page.by_id(f"exercise-{name}")
        rows = section.find("table", cls="mistakes").find("tbody").find_all("tr")
        found = {tr.attrs["data-id"]: int(_value(tr.find("td", data_key="count"))) for tr in rows}
        assert found == dict(expected), name
        shares = [_value(tr.find("td", data_key="share")) for tr in rows]
        assert shares == [pytest.approx(found[tr.attrs["data-id"]] / graded_class.size)
                          for tr in rows]
        counts = list(found.values())
        assert counts == sorted(counts, reverse=True)        # the most common first
        for tr in rows:
            example = tr.find("td", cls="example")
            if tr.attrs["data-id"] != "missing_function":
                assert "case worked-example" in example.text()
            assert example.find("span", cls="msg").text()


def test_examples_name_nobody_unless_asked(page, graded_class, parse_html):
    mistakes_text = " ".join(t.text() for t in page.find_all("table", cls="mistakes"))
    assert "learner_" not in mistakes_text
    assert not [a for t in page.find_all("table", cls="mistakes") for a in t.find_all("a")]
    named = parse_html(class_report_html(graded_class.results, names=True))
    row = named.by_id("exercise-sigmoid").find("tr", data_id="used_function_not_derivative")
    first = min(i for i in range(graded_class.size)
                if graded_class.plan(i)["sigmoid"] == "used_function")
    assert row.find("a").attrs["href"] == f"#learner-learner_{first:02d}"


URL_ATTRIBUTES = {"src", "srcset", "action", "formaction", "poster", "data", "background",
                  "cite", "manifest", "ping", "xlink:href", "xmlns"}


def test_the_page_fetches_nothing(page):
    for node in page.iter():
        assert not URL_ATTRIBUTES & set(node.attrs), node
        assert node.tag not in ("link", "iframe", "img", "object", "embed", "base"), node
        for name, value in node.attrs.items():
            assert "://" not in value and "url(" not in value, (node, name)
        if "href" in node.attrs:
            assert node.attrs["href"].startswith("#"), node      # within the page only
    for style in page.find_all("style"):
        assert "url(" not in style.text() and "@import" not in style.text()
    csp = page.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp
    [script] = page.find_all("script")
    source = "".join(c for c in script.children if isinstance(c, str))
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp       # the one script, and only it, may run


def test_every_link_leads_to_something_on_the_page(page, graded_class):
    ids = {n.attrs["id"] for n in page.iter() if "id" in n.attrs}
    targets = {a.attrs["href"][1:] for a in page.find_all("a")}
    assert targets <= ids
    for tr in page.by_id("learner-table").find("tbody").find_all("tr"):
        report = page.by_id(f"learner-{tr.attrs['data-key']}")
        assert report.tag == "details"
        statuses = [b.text() for b in report.find("table", cls="gc-summary").find_all(cls="badge")]
        assert statuses == [c.find(cls="badge").text() for c in tr.find_all("td")[2:-1]]


def test_the_report_of_a_results_folder_is_the_report_of_the_grading(graded_class):
    again = read_results(graded_class.json_dir)
    assert class_report_html(again) == class_report_html(graded_class.results)


# ---------------------------------------------------------------------------- made by hand


def _doc(name: str, scores: dict[str, tuple[str, float]], message: str = "wrong") -> dict:
    exercises = [{"name": ex, "function": f"grad_{ex}", "title": ex, "status": status,
                  "score": score, "max_score": 2.0, "error": None, "stdout": "", "line": None,
                  "group": None,
                  "diagnoses": [] if status == "passed" else [{"id": "scaled", "message": message,
                                                               "hint": "look"}],
                  "cases": [{"name": "worked-example", "hidden": False, "status": status,
                             "diagnoses": [], "message": message}]}
                 for ex, (status, score) in scores.items()]
    return {"tool": "gradcheck", "version": "0.1.0", "submission": name, "seed": 1,
            "passed": all(s == "passed" for s, _ in scores.values()),
            "score": sum(sc for _, sc in scores.values()), "max_score": 2.0 * len(scores),
            "import_error": None, "exercises": exercises}


def _small_class() -> ClassResults:
    hostile = "<script>alert(1)</script>"
    members = [
        Member(0, "class/ann.py", "class/ann.py", "ann", _doc("class/ann.py",
                                                            {"a": ("passed", 2.0)})),
        Member(1, f"class/{hostile}.py", f"class/{hostile}.py", "x_script_",
               _doc(f"class/{hostile}.py", {"a": ("failed", 0.5)},
                    message='<img src=x onerror="alert(2)"> in class/' + hostile + ".py")),
        Member(2, "class/bob", "", "bob", problem="no .py file in class/bob"),
        Member(3, "class/cy.py", "class/cy.py", "cy", internal="RuntimeError: tripped"),
    ]
    return ClassResults(1, [ExerciseInfo("a", 2.0, "A")], members, size=4)


def test_missing_files_and_grader_errors_count_as_the_gradebook_says(parse_html):
    results = _small_class()
    doc = parse_html(class_report_html(results))
    assert_learner_table_matches(doc, gradebook_csv(results), ["a"])
    assert _value(doc.by_id("not-graded")) == 1 and _value(doc.by_id("grader-errors")) == 1
    # The grader error has no score: left out of the statistics until it is regraded.
    assert _value(doc.by_id("mean")) == pytest.approx((2.0 + 0.5 + 0.0) / 3)
    bars = doc.by_id("score-histogram").find_all("rect", cls="bar")
    assert sum(int(b.attrs["data-count"]) for b in bars) == 3


def test_learner_text_cannot_add_markup(parse_html):
    doc = parse_html(class_report_html(_small_class(), names=False))
    assert len(doc.find_all("script")) == 1 and not doc.find_all("img")
    link = doc.by_id("learner-table").find("tr", data_index="1").find("a")
    assert link.attrs["title"] == "class/<script>alert(1)</script>.py"
    example = doc.by_id("exercise-a").find("td", cls="example").text()
    assert '<img src=x onerror="alert(2)"> in <submission>' in example   # and no name
