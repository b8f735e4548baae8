"""``--format json``: the document of CONTRACTS §4, exactly one per stream."""

from __future__ import annotations

import json

from ..neutral import inert_strings
from . import register


def report_json(report, show_hidden: bool = False) -> dict:
    """The JSON document of one report; hidden cases keep only name and status unless shown.

    Every string is inert: no terminal escapes, no workflow commands (``report.neutral``).
    """
    doc = inert_strings(report.to_json())
    if not show_hidden:
        for ex in doc["exercises"]:
            ex["cases"] = [_redact(c) if c["hidden"] else c for c in ex["cases"]]
    return doc


def _redact(case: dict) -> dict:
    keep = {"name", "hidden", "status", "score", "max_score", "duration_s"}
    return {k: (v if k in keep else ([] if k == "diagnoses" else None))
            for k, v in case.items()}


@register("json", "one JSON document on stdout (CONTRACTS §4)")
def write_json(reports, stream, options) -> None:
    docs = [report_json(r, options.show_hidden) for r in reports]
    json.dump(docs[0] if len(docs) == 1 else docs, stream, indent=2, allow_nan=False)
    stream.write("\n")
