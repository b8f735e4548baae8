"""Formulas in exercise files (``forward: conv2d(x, w)``), parsed safely and never eval'd.

The source is parsed with ``ast.parse(mode="eval")`` and every node is checked against a small
whitelist: input names, calls of the engine's ops (``OPS``) with constant keyword arguments,
numbers, ``+ - * / ** @``, unary minus, ``.T``, constant indexing, tuples and lists. Each
accepted node compiles into a closure, so evaluating a formula only ever calls engine ops.
Arithmetic goes through the ops too (never Python's operators on constants), so ``2 ** 10 ** 10``
is a float overflow, not an hour of big-integer arithmetic.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Mapping, Sequence

from ..errors import SpecError
from ..pysource import parse
from .validator import suggest

MAX_SOURCE_CHARS = 1000
MAX_NODES = 400
MAX_DEPTH = 40

Closure = Callable[[dict], Any]

# Python operators and the engine ops they stand for.
BINARY_OPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
              ast.Pow: "power", ast.MatMult: "matmul"}
UNARY_OPS = {ast.USub: "neg"}
ATTRIBUTE_OPS = {"T": "transpose"}
INDEX_OP = "getitem"

# Syntax that is refused, with the reason a spec author would want to read.
_REFUSED = {
    ast.Lambda: "lambda functions are not allowed",
    ast.Compare: "comparisons are not allowed (use maximum, minimum or where)",
    ast.BoolOp: "'and'/'or' are not allowed (use where)",
    ast.IfExp: "'... if ... else ...' is not allowed (use where)",
    ast.NamedExpr: "':=' is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
}


def ops_table() -> dict[str, Callable]:
    """The engine's public ops, looked up now (ops may be registered after this module loads)."""
    from ..engine.ops import OPS
    return OPS


class Expression:
    """A parsed formula: call it with the input arrays (or engine tensors) as keywords."""

    def __init__(self, source: str, variables: tuple[str, ...], functions: tuple[str, ...],
                 closure: Closure):
        self.source = source
        self.variables = variables
        self.functions = functions
        self._closure = closure

    def __call__(self, **env: Any) -> Any:
        missing = [name for name in self.variables if name not in env]
        if missing:
            raise TypeError(f"{self.source!r} needs a value for {', '.join(missing)}")
        return self._closure(env)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class _Compiler:
    """Turns a checked AST into closures; raises SpecError at the first refused node."""

    def __init__(self, source: str, allowed: Sequence[str], what: str, file: str | None,
                 line: int | None, reserved: Mapping[str, str]):
        self.source = source
        self.allowed = tuple(allowed)
        self.reserved = reserved
        self.what = what
        self.file = file
        self.line = line
        self.ops = ops_table()
        self.variables: list[str] = []
        self.functions: list[str] = []

    def fail(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecError:
        line = self.line
        where = ""
        if node is not None and hasattr(node, "col_offset"):
            if line is not None:
                line += getattr(node, "lineno", 1) - 1
            where = f" (column {node.col_offset + 1})"
        return SpecError(f"{self.what}: {message}{where} in `{self.source}`", file=self.file,
                         line=line, hint=hint)

    def op(self, name: str, node: ast.AST, purpose: str) -> Callable:
        if name not in self.ops:
            raise self.fail(f"{purpose} needs the engine op '{name}', which is not available",
                            node, "rewrite the formula with the ops listed by `gradcheck "
                                  "schema`")
        if name not in self.functions:
            self.functions.append(name)
        return self.ops[name]

    def compile(self, node: ast.AST) -> Closure:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            reason = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")
            raise self.fail(reason, node, "a formula may use the inputs, numbers, op calls, "
                                          "+ - * / ** @, unary -, .T and constant indexing")
        return handler(self, node)

    # -- leaves

    def name(self, node: ast.Name) -> Closure:
        name = node.id
        if name in self.reserved:
            raise self.fail(self.reserved[name], node,
                            "the names it may use are " + ", ".join(self.allowed))
        if name not in self.allowed:
            if name in self.ops:
                raise self.fail(f"'{name}' is an op; call it, e.g. {name}(...)", node)
            close = suggest(name, self.allowed)
            guess = f" — did you mean '{close}'?" if close else ""
            raise self.fail(f"unknown name '{name}'{guess}", node,
                            "the names it may use are " + ", ".join(self.allowed))
        if name not in self.variables:
            self.variables.append(name)
        return lambda env: env[name]

    def constant(self, node: ast.Constant) -> Closure:
        value = _number(node.value)
        if value is None:
            raise self.fail(f"the constant {node.value!r} is not allowed here; only numbers",
                            node)
        return lambda env: value

    # -- operators

    def binop(self, node: ast.BinOp) -> Closure:
        name = BINARY_OPS.get(type(node.op))
        if name is None:
            raise self.fail(f"the operator {type(node.op).__name__} is not allowed", node,
                            "use + - * / ** or @")
        fn = self.op(name, node, f"'{_symbol(node.op)}'")
        left, right = self.compile(node.left), self.compile(node.right)
        return lambda env: fn(left(env), right(env))

    def unaryop(self, node: ast.UnaryOp) -> Closure:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        name = UNARY_OPS.get(type(node.op))
        if name is None:
            raise self.fail(f"the operator {type(node.op).__name__} is not allowed", node,
                            "only unary minus is")
        fn = self.op(name, node, "unary '-'")
        return lambda env: fn(operand(env))

    def attribute(self, node: ast.Attribute) -> Closure:
        name = ATTRIBUTE_OPS.get(node.attr)
        if name is None:
            raise self.fail(f"the attribute '.{node.attr}' is not allowed", node,
                            "only .T (transpose) is; call ops instead of methods")
        fn = self.op(name, node, f"'.{node.attr}'")
        value = self.compile(node.value)
        return lambda env: fn(value(env))

    def subscript(self, node: ast.Subscript) -> Closure:
        index = self.index(node.slice)
        fn = self.op(INDEX_OP, node, "indexing")
        value = self.compile(node.value)
        return lambda env: fn(value(env), index)

    def index(self, node: ast.AST) -> Any:
        """A constant index: ints, slices of ints, None (new axis), ..., or a tuple of those."""
        if isinstance(node, ast.Tuple):
            return tuple(self.index(element) for element in node.elts)
        if isinstance(node, ast.Slice):
            parts = [None if p is None else self.integer(p) for p in
                     (node.lower, node.upper, node.step)]
            return slice(*parts)
        if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
            return node.value
        return self.integer(node)

    def integer(self, node: ast.AST) -> int:
        value = _constant(node)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail("an index must be a whole number written out (x[0], x[1:], "
                            "x[:, -1])", node)
        return value

    # -- calls and sequences

    def call(self, node: ast.Call) -> Closure:
        if not isinstance(node.func, ast.Name):
            self.compile(node.func)  # a lambda or an attribute is refused with its reason
            raise self.fail("only ops can be called, by name (e.g. exp(x))", node)
        name = node.func.id
        if name not in self.ops:
            close = suggest(name, self.ops)
            guess = f" — did you mean '{close}'?" if close else ""
            raise self.fail(f"unknown op '{name}'{guess}", node.func,
                            "the ops are " + ", ".join(sorted(self.ops)))
        fn = self.op(name, node, name)
        args = [self.constant_tuple(a) if _all_constant(a) else self.compile(a)
                for a in node.args]
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.fail("'**' unpacking is not allowed", keyword.value)
            if keyword.arg.startswith("_"):
                raise self.fail(f"the argument '{keyword.arg}' is not allowed", keyword.value)
            kwargs[keyword.arg] = self.keyword_value(keyword.value)
        return lambda env: fn(*[a(env) for a in args], **kwargs)

    def constant_tuple(self, node: ast.Tuple | ast.List) -> Closure:
        """A positional tuple of numbers, e.g. a shape: whole numbers stay integers."""
        value = self.keyword_value(node)
        return lambda env: value

    def keyword_value(self, node: ast.AST) -> Any:
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.keyword_value(element) for element in node.elts)
        value = _constant(node)
        if value is _NOT_CONSTANT or isinstance(value, bytes):
            raise self.fail("a keyword argument must be a constant (a number, a string, "
                            "True/False/None, or a tuple of those)", node,
                            "write the value itself, e.g. stride=2: a formula holds one "
                            "configuration (a parameter's values belong in `params:` and "
                            "the formula alike)")
        return value

    def sequence(self, node: ast.Tuple | ast.List) -> Closure:
        items = [self.compile(element) for element in node.elts]
        make = tuple if isinstance(node, ast.Tuple) else list
        return lambda env: make(item(env) for item in items)


_HANDLERS: dict[type, Callable[[_Compiler, Any], Closure]] = {
    ast.Name: _Compiler.name,
    ast.Constant: _Compiler.constant,
    ast.BinOp: _Compiler.binop,
    ast.UnaryOp: _Compiler.unaryop,
    ast.Attribute: _Compiler.attribute,
    ast.Subscript: _Compiler.subscript,
    ast.Call: _Compiler.call,
    ast.Tuple: _Compiler.sequence,
    ast.List: _Compiler.sequence,
}

_NOT_CONSTANT = object()


def _constant(node: ast.AST) -> Any:
    """The value of a constant or a negated constant number; ``_NOT_CONSTANT`` otherwise."""
    if isinstance(node, ast.Constant):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    return _NOT_CONSTANT


def _all_constant(node: ast.AST) -> bool:
    """A tuple or list made only of numbers (a shape, axes, a pad width)."""
    if not isinstance(node, (ast.Tuple, ast.List)) or not node.elts:
        return False
    return all(_all_constant(e) if isinstance(e, (ast.Tuple, ast.List))
               else type(_constant(e)) in (int, float) for e in node.elts)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer literal with hundreds of digits
        return None


def _symbol(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@"}.get(type(op), "?")


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse_expression(source: str, allowed: Sequence[str], *, what: str = "forward",
                     file: str | None = None, line: int | None = None,
                     single: bool = False,
                     reserved: Mapping[str, str] | None = None) -> Expression:
    """Parse and compile a formula over the names in ``allowed``; raise SpecError if refused.

    With ``single``, the formula must give one array (not a top-level tuple or list);
    ``reserved`` maps names that are refused to the reason given for them.
    """
    text = source.strip()

    def fail(message: str, hint: str | None = None, at: int | None = line) -> SpecError:
        return SpecError(f"{what}: {message}", file=file, line=at, hint=hint)

    if not text:
        raise fail("the formula is empty", "write an expression, e.g. sigmoid(x)")
    if len(text) > MAX_SOURCE_CHARS:
        raise fail(f"the formula is {len(text)} characters long; the limit is "
                   f"{MAX_SOURCE_CHARS}", "break the exercise into smaller ones")
    try:
        tree = parse(text, mode="eval")
    except SyntaxError as exc:
        at = None if line is None else line + (exc.lineno or 1) - 1
        raise fail(f"`{text}` is not a valid expression ({exc.msg}, column "
                   f"{exc.offset or 0})", "check the brackets and operators", at) from None
    except (RecursionError, MemoryError, ValueError):
        raise fail("the formula is nested too deeply or holds a null byte",
                   "simplify it") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES or _depth(tree) > MAX_DEPTH:
        raise fail(f"the formula is too large (at most {MAX_NODES} parts, {MAX_DEPTH} "
                   "levels deep)", "simplify it")
    if single and isinstance(tree.body, (ast.Tuple, ast.List)):
        raise fail(f"`{text}` gives a sequence; it must give one array",
                   "drop the top-level brackets or commas")
    compiler = _Compiler(text, allowed, what, file, line, reserved or {})
    closure = compiler.compile(tree.body)
    return Expression(text, tuple(compiler.variables), tuple(compiler.functions), closure)


def parse_signature(source: str, *, file: str | None = None, line: int | None = None,
                    what: str = "function", least: int = 2) -> tuple[str, tuple[str, ...]]:
    """``"grad_conv2d(x, w, dz)"`` -> ``("grad_conv2d", ("x", "w", "dz"))``.

    ``least``: how many parameters it needs (2, an input and the upstream gradient, for the
    simple style's gradient function; 1 for a forward or a backward).
    """
    hint = "write it as a call with plain names, e.g. grad_conv2d(x, w, dz)"
    try:
        tree = parse(source.strip(), mode="eval")
    except SyntaxError:
        tree = None
    call = tree.body if tree is not None else None
    if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.keywords
            or not all(isinstance(a, ast.Name) for a in call.args)):
        raise SpecError(f"{what}: `{source}` is not a signature like name(x, dz)", file=file,
                        line=line, hint=hint)
    params = tuple(a.id for a in call.args)
    if len(params) < least and least == 2:
        raise SpecError(f"{what}: `{source}` needs at least one input and the upstream "
                        "gradient", file=file, line=line,
                        hint="the last parameter is the upstream gradient, e.g. "
                             "grad_sigmoid(x, dz)")
    if len(params) < least:
        raise SpecError(f"{what}: `{source}` takes no parameter", file=file, line=line,
                        hint="e.g. relu_forward(x), relu_backward(dout, cache)")
    repeated = sorted({p for p in params if params.count(p) > 1})
    if repeated:
        raise SpecError(f"{what}: parameter '{repeated[0]}' is listed twice", file=file,
                        line=line, hint=hint)
    if call.func.id.startswith("_") or any(p.startswith("_") for p in params):
        raise SpecError(f"{what}: names may not start with '_'", file=file, line=line,
                        hint=hint)
    return call.func.id, params
