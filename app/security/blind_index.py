"""Blind indexes: exact-match search over encrypted fields without decrypting them.

An index value is HMAC-SHA256 of the normalised plaintext under a key derived for that
one index, truncated to a few bits. Truncation is deliberate: many people share each
value, so a stolen database (even with the index key) cannot confirm a guess, and a
search returns candidates that the caller MUST decrypt and compare before treating
them as matches (`BlindIndexer.normalized` gives the value to compare).

Length, by CipherSweet's rule (ciphersweet.paragonie.com, "Blind Index Planning"):
for R rows and N bits, the expected number of rows sharing one index value is
C = R / 2^N, and it must satisfy 2 <= C <= sqrt(R). The planned national scale is
R = 10,000,000 persons, so 12 <= N <= 22 (N = 22 gives C ~ 2.4, N = 12 gives C ~ 2441).
We take N = 20: C ~ 9.5 at full scale, so a search decrypts about ten false candidates
(cheap), and C stays >= 2 even if the real population is five times smaller than
planned (R >= 2.1 million); N = 22 would sit right at the floor. Below that
population the index separates people more finely than the rule wants, which is the
planning trade-off the rule accepts. Fields covered by several indexes count the sum
of their bits, which the registry holds to the same ceiling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.security import normalize

__all__ = [
    "DEFAULT_BITS",
    "FIELD_CATALOGUE",
    "MAX_BITS",
    "PERSONS",
    "PLANNED_ROWS",
    "BlindIndexer",
    "IndexDefinition",
    "IndexDefinitionError",
    "IndexRegistry",
    "IndexedField",
    "default_registry",
    "iso_date",
]

PLANNED_ROWS = 10_000_000
DEFAULT_BITS = 20
# Largest N with C = R / 2^N >= 2.
MAX_BITS = math.floor(math.log2(PLANNED_ROWS / 2))
PERSONS = "persons"

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PART_SEPARATOR = "|"
_INFO_LABEL = b"vcm-blind-index"


class IndexDefinitionError(ValueError):
    """An index definition breaks a rule of the registry."""


def iso_date(value: date | str) -> str:
    """A calendar date as YYYY-MM-DD; a datetime is refused (its date depends on zone)."""
    if isinstance(value, datetime):
        raise ValueError("a date of birth must be a date, not a datetime")
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        # date's own message quotes the input.
        raise ValueError("a date of birth must be an ISO date (YYYY-MM-DD)") from None


def _code(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True)
class IndexedField:
    """A field that may appear in an index: its normaliser and whether it is guessable.

    A low-entropy field (few distinct values: birth date, sex, province) would be
    revealed by frequency analysis of an index on it alone, so it may only be combined
    with a high-entropy one.
    """

    name: str
    normalize: Callable[[Any], str]
    low_entropy: bool = False


FIELD_CATALOGUE: dict[str, IndexedField] = {
    f.name: f
    for f in (
        IndexedField("national_id", normalize.national_id),
        IndexedField("phone", normalize.phone_e164),
        IndexedField("full_name", normalize.name_folded),
        IndexedField("date_of_birth", iso_date, low_entropy=True),
        IndexedField("sex", _code, low_entropy=True),
        IndexedField("nationality", _code, low_entropy=True),
        IndexedField("ethnicity", _code, low_entropy=True),
        IndexedField("province_code", _code, low_entropy=True),
        IndexedField("hometown_province_code", _code, low_entropy=True),
    )
}


@dataclass(frozen=True)
class IndexDefinition:
    """One blind index: `table`, its `name`, the fields it covers (in order), its bits."""

    table: str
    name: str
    fields: tuple[str, ...]
    bits: int = DEFAULT_BITS

    @property
    def column(self) -> str:
        return "+".join(self.fields)

    @property
    def size(self) -> int:
        """Bytes of each value: ceil(bits / 8), spare low bits of the last byte zero."""
        return (self.bits + 7) // 8

    def hkdf_info(self) -> bytes:
        # Names match [a-z0-9_] and the column joins them with '+', so '|' separates
        # unambiguously and no two indexes share a key.
        return b"|".join((_INFO_LABEL, *(s.encode() for s in (self.table, self.column, self.name))))


class IndexRegistry:
    """The indexes that may exist; refuses definitions that would leak by design."""

    def __init__(
        self,
        definitions: Iterable[IndexDefinition] = (),
        *,
        catalogue: Mapping[str, IndexedField] = FIELD_CATALOGUE,
    ) -> None:
        self._catalogue = dict(catalogue)
        self._definitions: dict[tuple[str, str], IndexDefinition] = {}
        for definition in definitions:
            self.add(definition)

    def define(
        self, table: str, name: str, fields: Iterable[str], *, bits: int = DEFAULT_BITS
    ) -> IndexDefinition:
        return self.add(IndexDefinition(table, name, tuple(fields), bits))

    def add(self, definition: IndexDefinition) -> IndexDefinition:
        """Register an index if it obeys every rule; otherwise `IndexDefinitionError`.

        Rules: lower-case identifier names; known fields, none repeated; at least one
        field that is not low-entropy; 1 <= bits, and the bits of all indexes covering
        a field of the table summed at most MAX_BITS (fewer bits only costs extra
        candidates to re-check, more bits would let the index single people out).
        """
        d = definition
        label = f"blind index {d.table}.{d.name}"
        for part in (d.table, d.name, *d.fields):
            if not _NAME.fullmatch(part):
                raise IndexDefinitionError(f"{label}: names must match {_NAME.pattern}")
        if (d.table, d.name) in self._definitions:
            raise IndexDefinitionError(f"{label} is already defined")
        if not d.fields or len(set(d.fields)) != len(d.fields):
            raise IndexDefinitionError(f"{label}: needs one or more distinct fields")
        unknown = [f for f in d.fields if f not in self._catalogue]
        if unknown:
            raise IndexDefinitionError(
                f"{label}: unknown fields {unknown}; add them to the catalogue with their "
                "normaliser and entropy class first"
            )
        if all(self._catalogue[f].low_entropy for f in d.fields):
            raise IndexDefinitionError(
                f"{label}: fields {list(d.fields)} are all low-entropy; an index on them "
                "alone gives the values away by frequency. Combine with a high-entropy field"
            )
        if not 1 <= d.bits <= MAX_BITS:
            raise IndexDefinitionError(f"{label}: bits must be between 1 and {MAX_BITS}")
        for f in d.fields:
            covered = d.bits + sum(
                o.bits for o in self._definitions.values() if o.table == d.table and f in o.fields
            )
            if covered > MAX_BITS:
                raise IndexDefinitionError(
                    f"{label}: field {d.table}.{f} would be covered by {covered} index bits "
                    f"in all, above {MAX_BITS}"
                )
        self._definitions[(d.table, d.name)] = d
        return d

    def get(self, table: str, name: str) -> IndexDefinition:
        try:
            return self._definitions[(table, name)]
        except KeyError:
            raise KeyError(f"no blind index {table}.{name}") from None

    def for_table(self, table: str) -> list[IndexDefinition]:
        return [d for d in self._definitions.values() if d.table == table]

    def field(self, name: str) -> IndexedField:
        return self._catalogue[name]

    def __iter__(self) -> Iterator[IndexDefinition]:
        return iter(list(self._definitions.values()))


def default_registry() -> IndexRegistry:
    """The indexes the API searches and checks duplicates by (API.md, cases/search)."""
    return IndexRegistry(
        [
            IndexDefinition(PERSONS, "national_id", ("national_id",)),
            IndexDefinition(PERSONS, "phone", ("phone",)),
            IndexDefinition(PERSONS, "name_dob", ("full_name", "date_of_birth")),
        ]
    )


class BlindIndexer:
    """Computes blind index values with per-index keys derived from the root key."""

    def __init__(self, root_key: bytes, registry: IndexRegistry | None = None) -> None:
        if len(root_key) < 32:
            raise ValueError("the blind-index root key must be at least 32 bytes")
        self._root = root_key
        self._registry = registry if registry is not None else default_registry()
        self._keys: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:
        return f"BlindIndexer(indexes={len(list(self._registry))}, root_key=<redacted>)"

    @property
    def registry(self) -> IndexRegistry:
        return self._registry

    def normalized(self, table: str, index: str, *values: Any) -> str:
        """The canonical string the index hashes; compare these to re-check a candidate.

        `ValueError` (never quoting the value) if a value does not normalise, normalises
        to empty, or, in a multi-field index, contains the '|' separator.
        """
        definition = self._registry.get(table, index)
        if len(values) != len(definition.fields):
            raise TypeError(
                f"blind index {table}.{index} takes {len(definition.fields)} values "
                f"({', '.join(definition.fields)}), got {len(values)}"
            )
        parts = []
        for name, value in zip(definition.fields, values, strict=True):
            part = self._registry.field(name).normalize(value)
            if not part:
                raise ValueError(f"{name} is empty after normalisation")
            if len(values) > 1 and _PART_SEPARATOR in part:
                raise ValueError(f"{name} contains the index separator '|'")
            parts.append(part)
        return _PART_SEPARATOR.join(parts)

    def compute(self, table: str, index: str, *values: Any) -> bytes:
        """The index value for `values`: HMAC-SHA256 under the index's own key, truncated
        to its bits. Equal inputs (after normalisation) give equal values; unequal inputs
        may too, so matches must be re-checked against the decrypted field."""
        definition = self._registry.get(table, index)
        message = self.normalized(table, index, *values).encode("utf-8")
        mac = hmac.HMAC(self._key(definition), hashes.SHA256())
        mac.update(message)
        return _truncate(mac.finalize(), definition.bits)

    def compute_available(self, table: str, values: Mapping[str, Any]) -> dict[str, bytes]:
        """Every index of `table` whose fields are all present and not None in `values`,
        by index name (what to store beside a new or updated row)."""
        return {
            d.name: self.compute(table, d.name, *(values[f] for f in d.fields))
            for d in self._registry.for_table(table)
            if all(values.get(f) is not None for f in d.fields)
        }

    def _key(self, definition: IndexDefinition) -> bytes:
        ident = (definition.table, definition.name)
        key = self._keys.get(ident)
        if key is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=definition.hkdf_info()
            )
            key = self._keys[ident] = hkdf.derive(self._root)
        return key


def _truncate(digest: bytes, bits: int) -> bytes:
    size = (bits + 7) // 8
    spare = size * 8 - bits
    head = bytearray(digest[:size])
    head[-1] &= (0xFF << spare) & 0xFF
    return bytes(head)
