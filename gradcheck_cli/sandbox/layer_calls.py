"""The calls a check of a course-style layer makes, beyond ``call`` and ``call_pair``: a loss
function's ``(loss, grads)``, and the forward on many perturbed inputs in one request (finite
differences). A mixin of ``Worker``: each builds a request and hands it to ``_request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable

from .replies import arguments
from .results import CallResult


class StyledCalls:
    """``Worker.call_loss`` and ``Worker.call_rows``."""

    def call_loss(self, function: str, args: Mapping[str, Any] | Iterable,
                  grads: Iterable[str] = (), params: Mapping | None = None) -> CallResult:
        """A loss function: ``loss, grads = function(*args)``. ``values`` are the loss (a
        float64 scalar), then the gradients of the inputs named in ``grads``, in that order
        (none: the loss alone)."""
        names, arrays = arguments(args)
        grads = list(grads)
        header = {"op": "call_loss", "function": function, "names": names, "grads": grads,
                  **(params or {})}
        return self._request(function, (function,), header, names, arrays, 1 + len(grads))

    def call_rows(self, function: str, style: str, args: Mapping[str, Any] | Iterable,
                  rows: Mapping[int, np.ndarray], params: Mapping | None = None) -> CallResult:
        """The forward called once per row of ``rows`` (``{argument index: (k, *shape)}``,
        row r replacing those arguments in call r), in one request: ``values`` is the
        outputs stacked, ``(k, *out_shape)``. ``style``: what the forward returns (``simple``
        the output, ``pair`` ``(out, cache)``, ``loss`` ``(loss, grads)``)."""
        names, arrays = arguments(args)
        vary = sorted(rows)
        stacks = [rows[i] for i in vary]
        header = {"op": "call_rows", "function": function, "style": style, "vary": vary,
                  "names": names, **(params or {})}
        return self._request(function, (function,), header, names, arrays + stacks, 1)
