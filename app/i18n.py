"""Vietnamese first: the problem bodies' `detail` and field messages, translated when
rendered.

The code writes its messages in English (the msgids); `app/errors.py` looks each one up
in the caller's language's gettext catalog (`app/locale/<lang>/LC_MESSAGES/messages.mo`,
compiled from the `.po` next to it with Babel: `make messages`). Vietnamese is the
default; `Accept-Language` preferring English gives English (`prefers_english`).

A message with values in it is a template with named parameters, `msg("must be at
most {max} characters", max=200)`: the template is the msgid and the values are put
in after translation. Values are numbers, codes and field names, never personal data.
`Message` is a `str` (its English text), so code that logs or compares messages keeps
working.

`FieldErrors` lets one pydantic validator report several fields at once: the problem
renderer turns it into one `errors` entry per field.
"""

from __future__ import annotations

import gettext
import string
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


class Message(str):
    """English text that keeps its template and parameters for translation."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Message:
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template = template
        self.params = params
        return self


def msg(template: str, /, **params: Any) -> Message:
    """A message whose template (not its filled-in text) is the catalog's msgid."""
    return Message(template, **params)


def text_of(exc: BaseException) -> str:
    """An exception's message, keeping a `Message` (which `str(exc)` would flatten)."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, str) else str(exc)


class FieldErrors(ValueError):
    """Several fields' problems from one validator, reported together.

    Raised inside a pydantic `model_validator`, it reaches the problem renderer as the
    `error` of one `value_error`; each `(field, message)` becomes its own entry, with
    the field below the model's location (`victim.full_name`)."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))


@cache
def catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language`; English needs none (the msgids are English)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if language == "en" or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def translate(text: str, language: str) -> str:
    """`text` in `language`: a `Message` by its template, anything else as a msgid.
    A message missing from the catalog stays in English (the coverage test keeps the
    catalog complete)."""
    translations = catalog(language)
    if isinstance(text, Message):
        template = translations.gettext(text.template)
        if not text.params:
            return template
        # A parameter that is itself a Message (a rule's reason) is translated too.
        params = {
            k: translate(v, language) if isinstance(v, Message) else v
            for k, v in text.params.items()
        }
        return template.format(**params)
    return translations.gettext(str(text))


# Pydantic's error types and the messages they answer with (pydantic's own English
# text is never shown: it is neither translated nor ours). Parameters come from the
# error's `ctx`. A type missing here answers the generic INVALID_MESSAGE.
INVALID_MESSAGE = "is not valid"
PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "json_invalid": "is not valid JSON",
    "json_type": "must be JSON text",
    "none_required": "must be null",
    "string_type": "must be text",
    "string_unicode": "must be text",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "string_pattern_mismatch": "does not have the expected format",
    "string_not_ascii": "must contain only ASCII characters",
    "enum": "must be one of: {expected}",
    "literal_error": "must be one of: {expected}",
    "union_tag_invalid": "must be one of: {expected_tags}",
    "union_tag_not_found": "needs the field {discriminator}",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_whole_digits": "must have at most {whole_digits} digits before the point",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "frozen_set_type": "must be a list",
    "iterable_type": "must be a list",
    "set_item_not_hashable": "must hold simple values",
    "dict_type": "must be an object",
    "mapping_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "date_past": "must be in the past",
    "date_future": "must be in the future",
    "datetime_type": "must be a date and time with its time zone (ISO 8601)",
    "datetime_parsing": "must be a date and time with its time zone (ISO 8601)",
    "datetime_object_invalid": "must be a date and time with its time zone (ISO 8601)",
    "datetime_from_date_parsing": "must be a date and time with its time zone (ISO 8601)",
    "datetime_past": "must be in the past",
    "datetime_future": "must be in the future",
    "timezone_naive": "must not carry a time zone",
    "timezone_aware": "must carry a time zone (for example +07:00)",
    "timezone_offset": "has the wrong time zone offset",
    "time_type": "must be a time (HH:MM:SS)",
    "time_parsing": "must be a time (HH:MM:SS)",
    "time_delta_type": "must be a duration",
    "time_delta_parsing": "must be a duration",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "uuid_version": "must be a UUID of version {expected_version}",
    "url_type": "must be a URL",
    "url_parsing": "must be a URL",
    "url_syntax_violation": "must be a URL",
    "url_too_long": "must be a URL of at most {max_length} characters",
    "url_scheme": "must be a URL with the scheme {expected_schemes}",
    "bytes_type": "must be bytes",
    "bytes_too_short": "must have at least {min_length} bytes",
    "bytes_too_long": "must have at most {max_length} bytes",
    "bytes_invalid_encoding": "is not correctly encoded",
    "frozen_field": "cannot be changed",
    "frozen_instance": "cannot be changed",
}


def _context_value(value: Any) -> str:
    # `expected` lists come as "'a', 'b' or 'c'": the English "or" becomes a comma.
    text = str(value)
    return text.replace(" or ", ", ")


def pydantic_errors(error: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(location, message) for one pydantic error; several for a `FieldErrors`.

    The error's `input` is never used: it would echo personal data back."""
    loc = tuple(error.get("loc", ()))
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        if isinstance(cause, FieldErrors):
            return [((*loc, *field.split(".")), message) for field, message in cause.errors]
        if isinstance(cause, BaseException) and cause.args and isinstance(cause.args[0], str):
            return [(loc, cause.args[0])]
        return [(loc, msg(INVALID_MESSAGE))]
    if kind == "json_invalid":
        return [((), msg(PYDANTIC_MESSAGES[kind]))]  # no position, no decoder text
    template = PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return [(loc, msg(INVALID_MESSAGE))]
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n]
    try:
        return [(loc, msg(template, **{n: _context_value(ctx[n]) for n in names}))]
    except KeyError:
        return [(loc, msg(INVALID_MESSAGE))]


# Where a request error sits: FastAPI's first element (body, query, path, header,
# cookie) is dropped; names are joined with dots and list indexes written in brackets:
# `victim.hometown_province_code`, `persons[0].relation`. The body itself is `body`.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form"})


def field_path(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"
