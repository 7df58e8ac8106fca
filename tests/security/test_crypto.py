"""Field encryption: round trips, and every way a ciphertext can be moved or damaged."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from app.security.crypto import (
    FORMAT_VERSION,
    DataKey,
    FieldContext,
    IntegrityError,
    Revealed,
    create_data_key,
    decrypt_field,
    decrypt_field_str,
    encrypt_field,
    new_data_key,
    open_data_key,
    parse_key_id,
)
from app.security.keyring import WrappedKey, generate_keyring

SECRET = "Nguyễn Văn An"
PERSON = uuid.uuid4()
CTX = FieldContext("persons", "full_name", row_id=PERSON, person_id=PERSON)


def _key() -> DataKey:
    return DataKey(key_id=uuid.uuid4(), key=new_data_key())


def test_new_data_key_is_32_random_bytes() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 for k in keys)


def test_round_trip_str_and_bytes() -> None:
    key = _key()
    ciphertext = encrypt_field(key.key, key.key_id, SECRET, CTX)
    assert decrypt_field(key, ciphertext, CTX) == SECRET.encode()
    assert decrypt_field_str(key, ciphertext, CTX) == SECRET
    assert key.decrypt(key.encrypt(b"\x00\xff", CTX), CTX) == b"\x00\xff"
    assert key.decrypt_str(key.encrypt("", CTX), CTX) == ""


def test_format_is_version_key_id_nonce_then_sealed() -> None:
    key = _key()
    ciphertext = key.encrypt(SECRET, CTX)
    assert ciphertext[0] == FORMAT_VERSION == 0x01
    assert ciphertext[1:17] == key.key_id.bytes
    assert len(ciphertext) == 1 + 16 + 12 + len(SECRET.encode()) + 16
    assert parse_key_id(ciphertext) == key.key_id


def test_decrypt_with_lookup_by_key_id() -> None:
    keys = {k.key_id: k for k in (_key(), _key(), _key())}
    ciphertexts = [k.encrypt(SECRET, CTX) for k in keys.values()]
    for ciphertext in ciphertexts:
        assert decrypt_field(keys.__getitem__, ciphertext, CTX) == SECRET.encode()


def test_plaintext_is_not_in_ciphertext() -> None:
    assert SECRET.encode() not in _key().encrypt(SECRET, CTX)


def test_ten_thousand_encryptions_use_ten_thousand_nonces() -> None:
    key = _key()
    nonces = {key.encrypt("079123456789", CTX)[17:29] for _ in range(10_000)}
    assert len(nonces) == 10_000


def _assert_rejected(key: DataKey | object, ciphertext: bytes, ctx: FieldContext) -> None:
    with pytest.raises(IntegrityError) as caught:
        decrypt_field(key, ciphertext, ctx)  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"{ctx.table}.{ctx.column}" in message
    assert SECRET not in message and "An" not in message.split()
    assert caught.value.table == ctx.table and caught.value.column == ctx.column


def test_tampered_byte_anywhere_is_rejected() -> None:
    key = _key()
    ciphertext = key.encrypt(SECRET, CTX)
    for position in range(len(ciphertext)):
        altered = bytearray(ciphertext)
        altered[position] ^= 0x01
        _assert_rejected(key, bytes(altered), CTX)


@pytest.mark.parametrize(
    "moved",
    [
        FieldContext("persons", "full_name", row_id=uuid.uuid4(), person_id=PERSON),
        FieldContext("persons", "other_names", row_id=PERSON, person_id=PERSON),
        FieldContext("relatives", "full_name", row_id=PERSON, person_id=PERSON),
        FieldContext("persons", "full_name", row_id=PERSON, person_id=uuid.uuid4()),
    ],
    ids=["swapped-row", "swapped-column", "swapped-table", "swapped-person"],
)
def test_ciphertext_moved_elsewhere_is_rejected(moved: FieldContext) -> None:
    key = _key()
    _assert_rejected(key, key.encrypt(SECRET, CTX), moved)


def test_wrong_key_is_rejected() -> None:
    key, other = _key(), _key()
    ciphertext = key.encrypt(SECRET, CTX)
    # The right id with the wrong bytes, and another key under its own id.
    _assert_rejected(DataKey(key_id=key.key_id, key=other.key), ciphertext, CTX)
    _assert_rejected(other, ciphertext, CTX)


def test_key_id_rewritten_in_header_is_rejected() -> None:
    key, other = _key(), _key()
    ciphertext = bytearray(key.encrypt(SECRET, CTX))
    ciphertext[1:17] = other.key_id.bytes
    # Even with a DEK claiming that id, the header is authenticated.
    _assert_rejected(DataKey(key_id=other.key_id, key=key.key), bytes(ciphertext), CTX)


@pytest.mark.parametrize("length", [0, 1, 17, 29, 44])
def test_truncated_is_rejected(length: int) -> None:
    key = _key()
    _assert_rejected(key, key.encrypt(SECRET, CTX)[:length], CTX)
    if length < 45:
        with pytest.raises(IntegrityError, match="truncated"):
            parse_key_id(key.encrypt(SECRET, CTX)[:length])


def test_truncated_tag_is_rejected() -> None:
    key = _key()
    _assert_rejected(key, key.encrypt(SECRET, CTX)[:-1], CTX)


def test_unknown_version_is_rejected() -> None:
    key = _key()
    ciphertext = bytearray(key.encrypt(SECRET, CTX))
    ciphertext[0] = 0x02
    _assert_rejected(key, bytes(ciphertext), CTX)
    with pytest.raises(IntegrityError, match="unknown format version"):
        parse_key_id(bytes(ciphertext))


def test_non_utf8_plaintext_is_integrity_error_without_the_bytes() -> None:
    key = _key()
    ciphertext = key.encrypt(b"\xff\xfe-secret", CTX)
    with pytest.raises(IntegrityError) as caught:
        decrypt_field_str(key, ciphertext, CTX)
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_aad_is_unambiguous() -> None:
    row, person = uuid.uuid4(), uuid.uuid4()
    a = FieldContext("ab", "c", row, person).aad()
    b = FieldContext("a", "bc", row, person).aad()
    c = FieldContext("a|b", "c", row, person).aad()
    d = FieldContext("a", "b|c", row, person).aad()
    assert len({a, b, c, d}) == 4
    assert FieldContext("ab", "c", row, person).aad() == a
    assert FieldContext("t", "c", row, person).aad() != FieldContext("t", "c", person, row).aad()


def test_field_context_rejects_empty_or_long_names() -> None:
    with pytest.raises(ValueError):
        FieldContext("", "c", PERSON, PERSON)
    with pytest.raises(ValueError):
        FieldContext("t", "x" * 256, PERSON, PERSON)


def test_data_key_checks_length() -> None:
    with pytest.raises(ValueError):
        DataKey(key_id=uuid.uuid4(), key=b"short")


def test_reprs_hide_keys_and_values() -> None:
    key = _key()
    assert key.key.hex() not in repr(key) and repr(key.key) not in repr(key)
    assert "redacted" in repr(key)
    revealed = decrypt_field_str(key, key.encrypt(SECRET, CTX), CTX)
    assert isinstance(revealed, Revealed)
    assert repr(revealed) == "'<redacted>'"
    assert SECRET not in repr([revealed]) and SECRET not in repr({"name": revealed})
    assert str(revealed) == SECRET and f"{revealed}" == SECRET


def test_person_data_key_wraps_and_opens_only_for_its_person(tmp_path) -> None:
    provider = generate_keyring(tmp_path / "keyring.json", dev=True)
    person = uuid.uuid4()
    data_key, wrapped = create_data_key(provider, person)
    assert isinstance(wrapped, WrappedKey)
    opened = open_data_key(provider, data_key.key_id, person, wrapped)
    ctx = FieldContext("persons", "phone", person, person)
    assert opened.decrypt_str(data_key.encrypt("+84912345678", ctx), ctx) == "+84912345678"
    with pytest.raises(IntegrityError):
        open_data_key(provider, data_key.key_id, uuid.uuid4(), wrapped)
    with pytest.raises(IntegrityError):
        open_data_key(provider, UUID(int=0), person, wrapped)


def test_encrypt_field_refuses_keys_that_are_not_256_bits() -> None:
    for size in (16, 24, 31, 33):
        with pytest.raises(ValueError):
            encrypt_field(bytes(size), uuid.uuid4(), SECRET, CTX)
