"""The Vietnamese catalog covers every message the code can answer with, and the
committed .mo is the compiled .po."""

from __future__ import annotations

import gettext
import string

import pytest
from babel.messages.pofile import read_po
from pydantic import BaseModel, ValidationError, model_validator

from app.i18n import (
    INVALID_MESSAGE,
    LOCALE_DIR,
    FieldErrors,
    field_path,
    msg,
    pydantic_errors,
    translate,
)
from app.i18n_extract import FSTRING, all_messages

PO = LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _po() -> dict[str, str]:
    with PO.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id}  # type: ignore[misc]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_no_message_is_an_f_string() -> None:
    """Values go into a template (`msg("... {name}", name=...)`): the template is the
    msgid, so the catalog does not depend on the values."""
    assert all_messages().get(FSTRING, []) == []


def test_every_message_has_a_vietnamese_translation() -> None:
    catalog = _po()
    untranslated = {
        text: places[0]
        for text, places in all_messages().items()
        if text != FSTRING and not catalog.get(text)
    }
    assert untranslated == {}, "run `make messages` and translate these in " + str(PO)


def test_translations_keep_every_placeholder() -> None:
    wrong = {k: v for k, v in _po().items() if v and _fields(k) != _fields(v)}
    assert wrong == {}


def test_the_committed_mo_is_the_compiled_po() -> None:
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    compiled = {k: v for k, v in compiled.items() if k}
    assert compiled == {k: v for k, v in _po().items() if v}, "run `make messages`"


def test_a_template_is_translated_then_filled() -> None:
    message = msg("must be at least {ge}", ge=3)
    assert message == "must be at least 3"  # a str: logs and comparisons keep working
    assert translate(message, "vi") == "phải lớn hơn hoặc bằng 3"
    assert translate(message, "en") == "must be at least 3"


def test_a_message_inside_a_message_is_translated() -> None:
    rule = msg("not entitled")
    outer = msg(
        "Cannot {action}: support '{support}' is no longer due ({rule}).",
        action="approve",
        support="loan",
        rule=rule,
    )
    assert translate(outer, "vi").endswith("(không được hưởng).")


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "victim", "hometown_province_code"), "victim.hometown_province_code"),
        (("body", "persons", 0, "relation"), "persons[0].relation"),
        (("body", "exploitation_types", 2), "exploitation_types[2]"),
        (("body",), "body"),
        ((), "body"),
        (("query", "limit"), "limit"),
    ],
)
def test_field_paths_in_full(loc: tuple[object, ...], path: str) -> None:
    assert field_path(loc) == path


class _Pair(BaseModel):
    a: int | None = None
    b: int | None = None

    @model_validator(mode="after")
    def _both(self) -> _Pair:
        raise FieldErrors([("a", msg("is required")), ("b", msg("is required"))])


class _Outer(BaseModel):
    pairs: list[_Pair]


def test_one_validator_reports_several_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate({"pairs": [{}]})
    found = [(field_path(loc), m) for e in caught.value.errors() for loc, m in pydantic_errors(e)]
    assert found == [("pairs[0].a", "is required"), ("pairs[0].b", "is required")]


def test_an_unknown_pydantic_error_type_answers_the_generic_message() -> None:
    [(loc, message)] = pydantic_errors({"type": "no_such_type", "loc": ("body", "x")})
    assert (loc, message) == (("body", "x"), INVALID_MESSAGE)
    assert translate(message, "vi") == "không hợp lệ"


def test_malformed_json_names_the_body_and_no_decoder_text() -> None:
    error = {"type": "json_invalid", "loc": ("body", 7), "ctx": {"error": "Expecting value"}}
    [(loc, message)] = pydantic_errors(error)
    assert field_path(loc) == "body"
    assert translate(message, "vi") == "không phải là JSON hợp lệ"
