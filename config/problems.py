"""Pydantic's validation errors as `Problem`s: the dotted key, what was expected, what was found,
and for an unknown key the key it most likely meant.
"""

import difflib
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from config.errors import Problem, _expected_one_of, _show
from config.model import Config
from config.values import Language

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "path_type": "a path (a string)",
    "string_too_short": "a non-empty string",
}
_BOUNDS = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">"}


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _expectation(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return f"expected a number {_BOUNDS[kind]} {bound}"
    if kind == "too_short":
        return f"expected at least {ctx['min_length']} item(s); found {ctx['actual_length']}"
    if kind == "value_error":
        return str(ctx["error"])
    return str(error["msg"])


def _problem(error: ErrorDetails) -> Problem:
    loc, kind = error["loc"], error["type"]
    key = _key_path(loc)
    if kind == "extra_forbidden":
        return Problem(key, _unknown_key(loc))
    if kind == "missing":
        return Problem(key, "required key is missing")
    if kind == "secret":
        return Problem(key, str(error["msg"]))
    expected = _expectation(error)
    if "; found" in expected:  # our own validators may already say what they found
        return Problem(key, expected)
    return Problem(key, f"{expected}; found {_show(error['input'])}")


# --- finding the model behind a key path, for unknown-key messages ------------------------------


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X; `X | None` -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _child(annotation: Any, part: int | str) -> Any:
    annotation = _unwrap(annotation)
    if _is_model(annotation):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    if get_origin(annotation) in (dict, list):
        return get_args(annotation)[-1]
    return None


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    annotation: Any = Config
    for part in loc:
        annotation = _child(annotation, part)
    annotation = _unwrap(annotation)
    return annotation if _is_model(annotation) else None


def _nested_keys(annotation: Any, prefix: str, depth: int = 2) -> dict[str, str]:
    """Key name -> its path below a table, for keys of the tables nested in it."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:
        return _nested_keys(get_args(annotation)[0], prefix, depth)
    if get_origin(annotation) is dict:
        key, value = get_args(annotation)
        return _nested_keys(value, prefix + (".<language>" if key == Language else ".<id>"), depth)
    if not _is_model(annotation) or depth == 0:
        return {}
    fields = annotation.model_fields
    keys = {name: f"{prefix}.{name}" for name in fields}
    for name, field in fields.items():  # the nearest table wins
        keys = _nested_keys(field.annotation, f"{prefix}.{name}", depth - 1) | keys
    return keys


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    model, key = _model_at(loc[:-1]), str(loc[-1])
    if model is None or not model.model_fields:
        return "unknown key; this table takes no keys"
    message = f"unknown key; {_expected_one_of(key, model.model_fields)}"
    if "did you mean" in message:
        return message
    deeper: dict[str, str] = {}
    for field, info in model.model_fields.items():  # the first table that takes the key wins
        for name, path in _nested_keys(info.annotation, field).items():
            deeper.setdefault(name, path)
    close = difflib.get_close_matches(key, deeper, n=1, cutoff=0.8)
    if close:
        path = deeper[close[0]]
        message += f" (did you mean {path.split('.')[0]!r}? {close[0]!r} goes in {path})"
    return message
