"""Blind indexes: determinism, separation between indexes, truncation, and the rules."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest

from app.security.blind_index import (
    DEFAULT_BITS,
    MAX_BITS,
    PERSONS,
    PLANNED_ROWS,
    BlindIndexer,
    IndexDefinition,
    IndexDefinitionError,
    IndexRegistry,
    default_registry,
)

ROOT = bytes(range(32))


def test_chosen_length_obeys_the_ciphersweet_rule() -> None:
    coincidences = PLANNED_ROWS / 2**DEFAULT_BITS
    assert 2 <= coincidences <= PLANNED_ROWS**0.5
    assert PLANNED_ROWS / 2**MAX_BITS >= 2 > PLANNED_ROWS / 2 ** (MAX_BITS + 1)


def test_values_are_deterministic_and_normalised_first() -> None:
    indexer = BlindIndexer(ROOT)
    assert indexer.compute(PERSONS, "national_id", "001234567890") == indexer.compute(
        PERSONS, "national_id", "001 234-567 890"
    )
    assert indexer.compute(PERSONS, "phone", "0912 345 678") == BlindIndexer(ROOT).compute(
        PERSONS, "phone", "(+84) 91-234-5678"
    )
    assert indexer.compute(
        PERSONS, "name_dob", "Nguyễn Thị Hoà", date(1998, 3, 4)
    ) == indexer.compute(PERSONS, "name_dob", "NGUYEN THI HOA", "1998-03-04")


def test_values_have_the_declared_size_and_zero_spare_bits() -> None:
    value = BlindIndexer(ROOT).compute(PERSONS, "national_id", "001234567890")
    assert len(value) == 3  # 20 bits
    assert value[-1] & 0x0F == 0
    for bits, size, mask in [(4, 1, 0x0F), (12, 2, 0x0F), (16, 2, 0x00), (22, 3, 0x03)]:
        registry = IndexRegistry([IndexDefinition(PERSONS, "phone", ("phone",), bits=bits)])
        indexer = BlindIndexer(ROOT, registry)
        for n in range(50):
            value = indexer.compute(PERSONS, "phone", f"09123456{n:02d}")
            assert len(value) == size and value[-1] & mask == 0


def test_root_key_and_index_identity_separate_values() -> None:
    same_input = "0912345678"
    registry = IndexRegistry(
        [
            IndexDefinition("persons", "phone", ("phone",)),
            IndexDefinition("persons", "phone_b", ("phone",), bits=2),
            IndexDefinition("hotline_reports", "phone", ("phone",)),
            IndexDefinition("relatives", "phone", ("phone",)),
        ]
    )
    indexer = BlindIndexer(ROOT, registry)
    keys = {indexer._key(d) for d in registry}
    assert len(keys) == 4  # one derived key per (table, column, index)
    values = {indexer.compute(t, "phone", same_input) for t in ("persons", "hotline_reports")}
    values.add(indexer.compute("relatives", "phone", same_input))
    assert len(values) == 3
    other_root = BlindIndexer(os.urandom(32), registry)
    assert other_root.compute("persons", "phone", same_input) != indexer.compute(
        "persons", "phone", same_input
    )


def test_info_strings_are_distinct_for_column_and_index() -> None:
    a = IndexDefinition("persons", "x", ("phone",)).hkdf_info()
    b = IndexDefinition("persons", "x", ("national_id",)).hkdf_info()
    c = IndexDefinition("persons", "y", ("phone",)).hkdf_info()
    assert len({a, b, c}) == 3
    assert a == b"vcm-blind-index|persons|phone|x"


def test_tiny_index_collides_so_callers_must_recheck() -> None:
    registry = IndexRegistry([IndexDefinition(PERSONS, "national_id", ("national_id",), bits=4)])
    indexer = BlindIndexer(ROOT, registry)
    ids = [f"0012345678{n:02d}" for n in range(40)]
    by_value: dict[bytes, list[str]] = {}
    for value in ids:
        by_value.setdefault(indexer.compute(PERSONS, "national_id", value), []).append(value)
    assert len(by_value) <= 16
    collided = next(group for group in by_value.values() if len(group) > 1)
    # Same index value, different people: only comparing the normalised plaintexts tells.
    first, second = collided[:2]
    assert indexer.compute(PERSONS, "national_id", first) == indexer.compute(
        PERSONS, "national_id", second
    )
    assert indexer.normalized(PERSONS, "national_id", first) != indexer.normalized(
        PERSONS, "national_id", second
    )


@pytest.mark.parametrize(
    "fields",
    [("date_of_birth",), ("sex",), ("province_code",), ("sex", "date_of_birth", "ethnicity")],
)
def test_low_entropy_only_index_is_refused(fields: tuple[str, ...]) -> None:
    with pytest.raises(IndexDefinitionError, match="low-entropy"):
        IndexRegistry().define(PERSONS, "guessable", fields)


def test_low_entropy_field_beside_a_high_entropy_one_is_allowed() -> None:
    registry = IndexRegistry()
    registry.define(PERSONS, "phone_sex", ("phone", "sex"), bits=8)
    assert BlindIndexer(ROOT, registry).compute(PERSONS, "phone_sex", "0912345678", "female")


@pytest.mark.parametrize(
    ("name", "fields", "bits", "problem"),
    [
        ("Bad-Name", ("phone",), 20, "names must match"),
        ("x", ("phone|sex",), 20, "names must match"),
        ("x", ("religion",), 20, "unknown fields"),
        ("x", (), 20, "distinct fields"),
        ("x", ("phone", "phone"), 20, "distinct fields"),
        ("x", ("phone",), 0, "bits"),
        ("x", ("phone",), MAX_BITS + 1, "bits"),
    ],
)
def test_malformed_definitions_are_refused(
    name: str, fields: tuple[str, ...], bits: int, problem: str
) -> None:
    with pytest.raises(IndexDefinitionError, match=problem):
        IndexRegistry().define(PERSONS, name, fields, bits=bits)


def test_bits_covering_one_field_are_capped_in_sum() -> None:
    registry = default_registry()
    with pytest.raises(IndexDefinitionError, match="covered by"):
        registry.define(PERSONS, "phone_again", ("phone",), bits=8)
    with pytest.raises(IndexDefinitionError, match="already defined"):
        registry.define(PERSONS, "phone", ("phone",), bits=1)
    registry.define("hotline_reports", "caller_phone", ("phone",))


def test_bad_values_are_value_errors_without_the_value() -> None:
    indexer = BlindIndexer(ROOT)
    for index, values in [
        ("phone", ("not a phone",)),
        ("national_id", ("12#45",)),
        ("name_dob", ("   ", date(2000, 1, 1))),
        ("name_dob", ("An|Bình", date(2000, 1, 1))),
        ("name_dob", ("An", "31/12/2000")),
        ("name_dob", ("An", datetime(2000, 1, 1, 12))),
    ]:
        with pytest.raises(ValueError) as caught:
            indexer.compute(PERSONS, index, *values)
        assert not any(str(v) in str(caught.value) for v in values if str(v).strip())
    with pytest.raises(TypeError):
        indexer.compute(PERSONS, "name_dob", "An")
    with pytest.raises(KeyError):
        indexer.compute(PERSONS, "nope", "x")


def test_compute_available_covers_present_fields_only() -> None:
    indexer = BlindIndexer(ROOT)
    values: dict[str, object] = {
        "national_id": None,
        "phone": "0912345678",
        "full_name": "Lò Thị Mai",
    }
    assert set(indexer.compute_available(PERSONS, values)) == {"phone"}
    values["date_of_birth"] = date(2004, 5, 6)
    computed = indexer.compute_available(PERSONS, values)
    assert set(computed) == {"phone", "name_dob"}
    assert computed["phone"] == indexer.compute(PERSONS, "phone", "+84912345678")


def test_repr_and_root_key_checks() -> None:
    indexer = BlindIndexer(ROOT)
    assert ROOT.hex() not in repr(indexer) and repr(ROOT) not in repr(indexer)
    with pytest.raises(ValueError):
        BlindIndexer(b"short")
