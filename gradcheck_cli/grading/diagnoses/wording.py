"""Places in the learner's code in words, for the diagnoses' messages.

Numbers and shapes are put into words by ``report/numbers.py``, as in the reports.
"""

from __future__ import annotations

from ...report.view import frame_where


def _where(frames: list[dict]) -> str:
    if not frames:
        return ""
    last = frames[-1]
    source = (last.get("source") or "").strip()
    # The first frame is the submission's; a module of the learner's beside it is named.
    file = f" of {last.get('file')}" if last.get("file") != frames[0].get("file") else ""
    text = f" at {frame_where(last)}{file}" if last.get("line") else ""
    return f"{text}: {source}" if source else text
