"""Histograms as inline SVG: drawn here, so the page needs no chart library and no network.

Each bar carries its numbers (``data-low``, ``data-high``, ``data-count``) and a tooltip, so the
picture can be read by a person, a screen reader and a test alike.
"""

from __future__ import annotations

from typing import Sequence

from ..report.formats.html import esc
from .summary import Bin


LABEL_ROWS = (11, 24)     # baselines of the mean's and the median's labels


def histogram_svg(bins: Sequence[Bin], *, top: float, label: str, unit: str = "learners",
                  mean: float | None = None, median: float | None = None,
                  width: int = 640, height: int = 220, element_id: str | None = None) -> str:
    """Bars of ``bins`` over [0, top], with the mean and median marked when given."""
    left, right, above, below = 34, 12, LABEL_ROWS[-1] + 18, 34
    plot_w, plot_h = width - left - right, height - above - below
    peak = max((b.count for b in bins), default=0) or 1
    whole_points = all(b.low == b.high for b in bins)
    # Whole-point bars are centred on their value; range bars span [low, high].
    lo, hi = (-0.5, top + 0.5) if whole_points else (0.0, top or 1.0)

    def x_of(value: float) -> float:
        return left + (value - lo) / (hi - lo) * plot_w

    slot = plot_w / max(1, len(bins))
    ident = f' id="{esc(element_id)}"' if element_id else ""
    out = [f'<svg{ident} class="histogram" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-label="{esc(label)}"><title>{esc(label)}</title>',
           f'<line class="axis" x1="{left}" y1="{above + plot_h}" x2="{left + plot_w}" '
           f'y2="{above + plot_h}"/>',
           f'<text class="tick" x="{left - 6}" y="{above + 4}" text-anchor="end">{peak}</text>',
           f'<text class="tick" x="{left - 6}" y="{above + plot_h}" text-anchor="end">0</text>']
    for i, b in enumerate(bins):
        h = b.count / peak * plot_h
        x = left + i * slot + 1.5
        y = above + plot_h - h
        what = f"{b.count} {unit} scored {b.label}"
        out.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 3):.1f}" '
                   f'height="{h:.1f}" data-low="{_n(b.low)}" data-high="{_n(b.high)}" '
                   f'data-count="{b.count}"><title>{esc(what)}</title></rect>')
        cx = left + (i + 0.5) * slot
        if b.count:
            out.append(f'<text class="count" x="{cx:.1f}" y="{y - 4:.1f}" '
                       f'text-anchor="middle">{b.count}</text>')
        out.append(f'<text class="tick" x="{cx:.1f}" y="{above + plot_h + 14}" '
                   f'text-anchor="middle">{esc(b.label)}</text>')
    # Each label on a row of its own (the mean's above the median's), on whichever side of
    # its line has more room: two labels never overlap, and none leaves the chart.
    for row, (name, value) in enumerate((("mean", mean), ("median", median))):
        if value is None:
            continue
        x = x_of(value)
        dx, anchor = (-3, "end") if x > left + plot_w / 2 else (3, "start")
        out.append(f'<line class="{name}" x1="{x:.1f}" y1="{LABEL_ROWS[-1] + 3}" x2="{x:.1f}" '
                   f'y2="{above + plot_h}" data-value="{_n(value)}"/>'
                   f'<text class="marker {name}" x="{x + dx:.1f}" y="{LABEL_ROWS[row]}" '
                   f'text-anchor="{anchor}">{name} {_short(value)}</text>')
    out.append(f'<text class="tick" x="{left + plot_w / 2:.1f}" y="{height - 4}" '
               'text-anchor="middle">points</text></svg>')
    return "".join(out)


def _n(x: float) -> str:
    """A number for an attribute: exact enough to compare, no float noise."""
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def _short(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")
