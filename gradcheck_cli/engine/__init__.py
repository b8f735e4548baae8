"""A small reverse-mode autodiff engine on NumPy: the first of gradcheck's two references."""

from .core import PRIMITIVES, Primitive, Tensor, backward, batched, forward_value, ops_used, vjp

__all__ = ["PRIMITIVES", "Primitive", "Tensor", "backward", "batched", "forward_value",
           "ops_used", "vjp"]
