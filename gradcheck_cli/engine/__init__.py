"""A small reverse-mode autodiff engine on NumPy: the first of gradcheck's two references."""

from . import ops
from .batching import batched
from .core import (PRIMITIVES, Primitive, Tensor, backward, forward_value, normalize_wrt,
                   ops_used, vjp)
from .kinks import find_kinks
from .primitive import Kink

__all__ = ["Kink", "PRIMITIVES", "Primitive", "Tensor", "backward", "batched", "find_kinks",
           "forward_value", "normalize_wrt", "ops", "ops_used", "vjp"]
