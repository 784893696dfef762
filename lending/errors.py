"""One human line out of a pydantic `ValidationError`.

People fix a policy file or an answers file from the first message they read, so the
line names the field path and what was expected, e.g.
"policy.toml: ltv.new_personal_fuel: must be between 0 and 100, got 120".
"""

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "date_type": "a date like 2026-12-31",
    "date_parsing": "a date like 2026-12-31",
    "date_from_datetime_parsing": "a date like 2026-12-31",
    "time_type": 'a time like "09:00"',
    "time_parsing": 'a time like "09:00"',
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("ltv", "used")` -> "ltv.used"; list positions read as `[2]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def describe_error(error: ErrorDetails) -> str:
    """What was expected, in words, with the value that was given."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    shown = f", got {given!r}" if isinstance(given, str) else f", got {given}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known setting (check the spelling)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("enum", "literal_error"):
        return f"must be one of {ctx.get('expected', '')}{shown}"
    if kind == "greater_than":
        return f"must be greater than {ctx['gt']}{shown}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}{shown}"
    if kind == "less_than":
        return f"must be less than {ctx['lt']}{shown}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}{shown}"
    if kind in ("too_short", "too_long"):
        return error["msg"].lower().replace("list should", "must") + shown
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{shown}"
    return f"{error['msg']}{shown}"


def first_error_line(exc: ValidationError, source: str | None = None) -> str:
    """The first error as "source: field.path: what was expected, got X"."""
    error = exc.errors()[0]
    # A model-level check already starts its message with the field it is about.
    what = describe_error(error)
    line = f"{field_path(error['loc'])}: {what}" if error["loc"] else what
    return f"{source}: {line}" if source else line
