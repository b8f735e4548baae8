"""Finite differences: gradcheck's second reference, independent of the engine's VJP rules.

``numerical_vjp(f, args, dz, wrt)`` estimates <dz, df/dx_i> for every element x_i of
``args[wrt]`` by perturbing the inputs of any NumPy function ``f``. The formulas are a registry
of stencils (``stencils.py``): the complex step, exact to rounding, only for functions written
with the engine's ops whose every op on the way from x is holomorphic, and only after it agreed
with real differences along a random direction (``choice.py``); else Richardson extrapolation
or one central difference.

Functions written with ``ops`` are evaluated batched: many perturbed inputs in one vectorised
call (``target.py``). When the Jacobian is sparse (a convolution, an elementwise op, a row-wise
softmax) inputs whose outputs do not overlap are perturbed together (``colouring.py``), so a
9,000-element input costs a few dozen evaluations; a coloured result is checked against random
projections before it is returned. Otherwise every element is perturbed alone
(``per_element.py``). ``projection_check`` is the cheap check along one random direction.
"""

from .projection import projection_check
from .results import NumericalVJP, ProjectionCheck
from .stencils import METHODS, STENCILS
from .target import CHUNK_BYTES
from .vjp import numerical_vjp

__all__ = ["CHUNK_BYTES", "METHODS", "NumericalVJP", "ProjectionCheck", "STENCILS",
           "numerical_vjp", "projection_check"]
