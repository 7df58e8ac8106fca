"""The PKCS#11 key ring against a SoftHSM2 token: data keys wrapped inside the token,
the KEK never leaves it, rotation keeps older data keys readable."""

from __future__ import annotations

import os
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass

from app.config import Settings
from app.keys import ConfigurationError, load_keyring
from app.security.errors import IntegrityError, KeyRingError
from app.security.keyring import FileKeyProvider, WrappedKey, generate_keyring
from app.security.keyring_pkcs11 import Pkcs11Config, Pkcs11KeyProvider
from tests.softhsm import softhsm

__all__ = ["softhsm"]  # the fixture


def _ring(tmp_path: Path, token: Pkcs11Config, *, kek: bool = False) -> Pkcs11KeyProvider:
    rest = generate_keyring(tmp_path / "keyring.json", dev=True, kek=kek)
    return Pkcs11KeyProvider(rest, token)


def test_data_key_wrapped_and_unwrapped_inside_the_token(
    tmp_path: Path, softhsm: Pkcs11Config
) -> None:
    keys = _ring(tmp_path, softhsm)
    with pytest.raises(KeyRingError, match="no key-encryption key"):
        keys.wrap_dek(os.urandom(32), context=b"person:1")
    assert keys.generate_kek() == 1
    dek = os.urandom(32)
    wrapped = keys.wrap_dek(dek, context=b"person:1")
    assert wrapped.kek_version == 1 and len(wrapped.blob) == 12 + 32 + 16
    assert dek not in wrapped.blob
    assert keys.unwrap_dek(wrapped, context=b"person:1") == dek
    # Bound to its context and version, and tamper-evident.
    with pytest.raises(IntegrityError):
        keys.unwrap_dek(wrapped, context=b"person:2")
    altered = bytearray(wrapped.blob)
    altered[20] ^= 1
    with pytest.raises(IntegrityError):
        keys.unwrap_dek(WrappedKey(1, bytes(altered)), context=b"person:1")
    with pytest.raises(IntegrityError):
        keys.unwrap_dek(WrappedKey(1, wrapped.blob[:-1]), context=b"person:1")
    with pytest.raises(KeyRingError, match="no key-encryption key version 7"):
        keys.unwrap_dek(WrappedKey(7, wrapped.blob), context=b"person:1")
    # The other keys come from the file, which holds no KEK.
    assert keys.index_root_key() == keys._rest.index_root_key()
    assert keys._rest.kek_versions() == []
    assert "4921" not in repr(keys) and "4921" not in repr(softhsm)


def test_the_kek_cannot_be_read_out_of_the_token(tmp_path: Path, softhsm: Pkcs11Config) -> None:
    keys = _ring(tmp_path, softhsm)
    keys.generate_kek()
    keys.close()
    token = pkcs11.lib(str(softhsm.module)).get_token(token_label=softhsm.token_label)
    with token.open(user_pin=softhsm.pin) as session:
        (kek,) = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
        assert kek.label == "vcm-kek-1"
        assert kek[Attribute.EXTRACTABLE] is False and kek[Attribute.SENSITIVE] is True
        assert kek[Attribute.TOKEN] is True and kek[Attribute.WRAP] is False
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            kek[Attribute.VALUE]
        # Nor wrapped out under another key the session makes.
        outer = session.generate_key(pkcs11.KeyType.AES, 256, template={Attribute.WRAP: True})
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            outer.wrap_key(kek, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)


def test_rotation_keeps_old_data_keys_readable(tmp_path: Path, softhsm: Pkcs11Config) -> None:
    keys = _ring(tmp_path, softhsm)
    keys.generate_kek()
    old = keys.wrap_dek(b"a" * 32, context=b"c")
    other = Pkcs11KeyProvider(FileKeyProvider(tmp_path / "keyring.json"), softhsm)
    assert other.generate_kek() == 2  # another process rotates
    assert keys.unwrap_dek(other.wrap_dek(b"b" * 32, context=b"c"), context=b"c") == b"b" * 32
    assert keys.current_kek_version() == 2 and keys.kek_versions() == [1, 2]
    assert keys.unwrap_dek(old, context=b"c") == b"a" * 32
    assert keys.wrap_dek(b"a" * 32, context=b"c").kek_version == 2


def test_file_keks_stay_readable_while_moving_to_the_token(
    tmp_path: Path, softhsm: Pkcs11Config
) -> None:
    rest = generate_keyring(tmp_path / "keyring.json", dev=True)  # KEK version 1 in the file
    before = rest.wrap_dek(b"f" * 32, context=b"c")
    keys = Pkcs11KeyProvider(rest, softhsm)
    assert keys.generate_kek() == 2  # numbered after the file's versions
    assert keys.unwrap_dek(before, context=b"c") == b"f" * 32
    assert keys.wrap_dek(b"f" * 32, context=b"c").kek_version == 2
    assert keys.kek_versions() == [1, 2] and keys.token_versions() == [2]


def test_a_file_without_keks_refuses_to_wrap(tmp_path: Path) -> None:
    rest = generate_keyring(tmp_path / "keyring.json", dev=True, kek=False)
    with pytest.raises(KeyRingError, match="VCM_KEK_PROVIDER=pkcs11"):
        rest.wrap_dek(b"x" * 32, context=b"c")


def test_settings_choose_the_token(tmp_path: Path, softhsm: Pkcs11Config) -> None:
    ring = tmp_path / "keyring.json"
    generate_keyring(ring, dev=True, kek=False)
    pin_file = tmp_path / "pin"
    pin_file.write_text(softhsm.pin + "\n")
    base = {
        "VCM_KEYRING": ring,
        "VCM_DATA_DIR": tmp_path / "data",
        "VCM_KEK_PROVIDER": "pkcs11",
        "VCM_PKCS11_MODULE": softhsm.module,
        "VCM_PKCS11_TOKEN_LABEL": softhsm.token_label,
    }
    keys = load_keyring(Settings(**base, VCM_PKCS11_PIN_FILE=pin_file))  # type: ignore[arg-type]
    assert isinstance(keys, Pkcs11KeyProvider)
    keys.close()
    with pytest.raises(ConfigurationError, match="PIN"):
        load_keyring(Settings(**base))  # type: ignore[arg-type]
    with pytest.raises(KeyRingError, match="wrong PIN"):
        load_keyring(Settings(**base, VCM_PKCS11_PIN="0000"))  # type: ignore[arg-type]
    with pytest.raises(KeyRingError, match="no PKCS#11 token"):
        load_keyring(
            Settings(**{**base, "VCM_PKCS11_TOKEN_LABEL": "absent"}, VCM_PKCS11_PIN="1")  # type: ignore[arg-type]
        )
    production = Settings(VCM_ENV="production", VCM_KEK_PROVIDER="pkcs11")  # type: ignore[call-arg]
    assert any("VCM_PKCS11_PIN" in p for p in production.production_problems())
