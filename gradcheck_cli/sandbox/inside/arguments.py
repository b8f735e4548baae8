"""The arguments of a call into the learner's code: placing a course's parameters among the
arrays, checking a signature takes them before any learner code runs, and saying why a call
could not take them.
"""

import inspect

# Taken before any learner code runs (see calls.py).
_signature = inspect.signature


class BadArguments(Exception):
    """The function's signature does not take the arguments the call gives (the caller's
    mistake, reported before any learner code runs)."""


def arrange(header: dict, arrays: list) -> tuple[list, dict]:
    """The call's positional and keyword arguments: the arrays, with the parameters (JSON
    values: dicts, lists, numbers, strings) where ``layout`` puts them (``"a"``: the next
    array; ``{"param": value}``: that value), and ``kwargs`` by name."""
    layout = header.get("layout")
    kwargs = dict(header.get("kwargs") or {})
    if layout is None:
        return list(arrays), kwargs
    pending = iter(arrays)
    args = [next(pending) if item == "a" else item["param"] for item in layout]
    return args + list(pending), kwargs


def arranged_names(header: dict, names: list) -> tuple[list, list]:
    """The names of a call's positional arguments (arrays and parameters, as ``arrange``
    places them) and of its keyword arguments, for messages."""
    layout = header.get("layout")
    if layout is None:
        return list(names), list(header.get("kwargs") or {})
    pending = iter(names)
    positional = [next(pending, "?") if item == "a" else item.get("name", "param")
                  for item in layout]
    return positional + list(pending), list(header.get("kwargs") or {})


def check_arguments(header: dict, func, name: str, args: list, kwargs: dict) -> None:
    """With ``bind`` in the request: BadArguments unless ``func``'s signature takes these."""
    if not header.get("bind"):
        return
    try:
        signature = _signature(func)
    except (TypeError, ValueError):
        return                          # a builtin or an odd callable: let the call decide
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise BadArguments(f"{name}{signature}: {exc}") from None


def explain_arity(reply: dict, func, name: str, names: list, keywords: list = (),
                  caller: str = "the exercise") -> dict:
    """A TypeError raised by the call itself (no frame of the learner's), when the function
    cannot take the arguments: say which parameters it has and which it is called with
    (``names`` by position, ``keywords`` by name)."""
    if reply.get("diagnosis") != "exception" or reply.get("frames") \
            or not reply.get("message", "").startswith("TypeError"):
        return reply
    names = list(names) + [f"{k}=..." for k in keywords]
    try:
        signature = _signature(func)
        signature.bind(*names[:len(names) - len(keywords)], **dict.fromkeys(keywords))
    except TypeError:
        params = [("*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD
                   else "") + p.name for p in signature.parameters.values()]
        count = len(params)
        reply = {**reply, "message": (
            f"{name} takes {count} parameter{'s' if count != 1 else ''} "
            f"({', '.join(params)}) but {caller} calls it with {len(names)}: "
            f"{name}({', '.join(names)})")}
    except BaseException:              # noqa: BLE001 - no signature to read (a builtin, ...)
        pass
    return reply
