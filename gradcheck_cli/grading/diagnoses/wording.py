"""Places in the learner's code in words, for the diagnoses' messages.

Numbers and shapes are put into words by ``report/numbers.py``, as in the reports.
"""

from __future__ import annotations


def _where(frames: list[dict]) -> str:
    if not frames:
        return ""
    last = frames[-1]
    source = (last.get("source") or "").strip()
    text = f" at line {last.get('line')}" if last.get("line") else ""
    return f"{text}: {source}" if source else text
