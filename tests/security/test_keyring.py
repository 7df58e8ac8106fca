"""Key ring file: permissions, wrapping, rotation across processes, and hidden reprs."""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.security import keyring_file
from app.security.crypto import IntegrityError, new_data_key
from app.security.keyring import (
    FileKeyProvider,
    KeyProvider,
    KeyRingError,
    WrappedKey,
    ed25519_jwk,
    generate_keyring,
    load_or_create_dev_keyring,
    rewrap_dek,
    rotate_kek,
    rotate_token_signing_key,
)

CONTEXT = b"person:" + uuid.uuid4().bytes


def _ring(tmp_path: Path, *, dev: bool = False) -> FileKeyProvider:
    return generate_keyring(tmp_path / "keyring.json", dev=dev)


def _secrets_in(path: Path) -> list[bytes]:
    doc = json.loads(path.read_text())
    encoded = [
        *doc["kek"]["versions"].values(),
        doc["index_root"],
        *doc["token_signing"]["keys"].values(),
        doc["audit_signing"]["key"],
    ]
    return [base64.b64decode(v) for v in encoded]


def test_generated_file_is_0600_and_well_formed(tmp_path: Path) -> None:
    provider = _ring(tmp_path, dev=True)
    assert (provider.path.stat().st_mode & 0o777) == 0o600
    doc = json.loads(provider.path.read_text())
    assert doc["format"] == 1 and doc["dev"] is True
    assert doc["kek"]["current"] == 1 and list(doc["kek"]["versions"]) == ["1"]
    assert all(len(secret) == 32 for secret in _secrets_in(provider.path))
    assert provider.is_dev and isinstance(provider, KeyProvider)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_generate_never_overwrites(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    before = provider.path.read_bytes()
    with pytest.raises(KeyRingError, match="already exists"):
        generate_keyring(provider.path, dev=False)
    assert provider.path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_exposed_file_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = _ring(tmp_path).path
    path.chmod(mode)
    with pytest.raises(KeyRingError) as caught:
        FileKeyProvider(path)
    message = str(caught.value)
    assert str(path) in message and f"chmod 600 {path}" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_file_is_accepted(tmp_path: Path, mode: int) -> None:
    path = _ring(tmp_path).path
    path.chmod(mode)
    assert FileKeyProvider(path).current_kek_version() == 1


def test_permission_change_while_running_is_refused(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    provider.path.chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        provider.reload()


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d.update(format=2), "format"),
        (lambda d: d.update(dev="yes"), "dev"),
        (lambda d: d["kek"].update(current=2), "kek.current"),
        (lambda d: d["kek"].update(current=True), "kek.current"),
        (lambda d: d["kek"]["versions"].update({"1": "c2hvcnQ="}), "kek.versions.1"),
        (lambda d: d["kek"]["versions"].update({"01": d["kek"]["versions"]["1"]}), "kek.versions"),
        (lambda d: d.update(index_root="not base64!"), "index_root"),
        (lambda d: d["token_signing"].update(current="nope"), "token_signing.current"),
        (lambda d: d.pop("audit_signing"), "audit_signing"),
    ],
)
def test_malformed_file_is_refused_naming_the_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], where: str
) -> None:
    path = _ring(tmp_path).path
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyRingError) as caught:
        FileKeyProvider(path)
    assert where in str(caught.value)
    for value in (doc.get("index_root"), *doc["kek"]["versions"].values()):
        assert str(value) not in str(caught.value)


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    with pytest.raises(KeyRingError, match="does not exist"):
        FileKeyProvider(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b'{"format": 1, "kek": "c2VjcmV0')
    os.close(fd)
    with pytest.raises(KeyRingError, match="not valid JSON") as caught:
        FileKeyProvider(path)
    assert "c2VjcmV0" not in str(caught.value) and caught.value.__suppress_context__


def test_wrap_and_unwrap(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    dek = new_data_key()
    wrapped = provider.wrap_dek(dek, context=CONTEXT)
    assert wrapped.kek_version == 1 and dek not in wrapped.blob
    assert len(wrapped.blob) == 12 + 32 + 16
    assert provider.unwrap_dek(wrapped, context=CONTEXT) == dek
    assert provider.wrap_dek(dek, context=CONTEXT).blob != wrapped.blob  # fresh nonce
    with pytest.raises(ValueError):
        provider.wrap_dek(b"short", context=CONTEXT)


def test_unwrap_rejects_tampering_wrong_context_and_relabelling(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    wrapped = provider.wrap_dek(new_data_key(), context=CONTEXT)
    for position in range(len(wrapped.blob)):
        altered = bytearray(wrapped.blob)
        altered[position] ^= 0x80
        with pytest.raises(IntegrityError):
            provider.unwrap_dek(WrappedKey(1, bytes(altered)), context=CONTEXT)
    with pytest.raises(IntegrityError):
        provider.unwrap_dek(wrapped, context=CONTEXT + b"x")
    with pytest.raises(IntegrityError):
        provider.unwrap_dek(WrappedKey(1, wrapped.blob[:-1]), context=CONTEXT)
    rotate_kek(provider.path)
    # Same bytes claimed under version 2: the version is authenticated too.
    with pytest.raises(IntegrityError):
        provider.unwrap_dek(WrappedKey(2, wrapped.blob), context=CONTEXT)


def test_rotation_adds_a_version_and_old_deks_still_unwrap(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    dek = new_data_key()
    old = provider.wrap_dek(dek, context=CONTEXT)
    assert rotate_kek(provider.path) == 2
    assert rotate_kek(provider.path) == 3
    assert (provider.path.stat().st_mode & 0o777) == 0o600
    assert provider.kek_versions() == [1, 2, 3] and provider.current_kek_version() == 3
    new = provider.wrap_dek(dek, context=CONTEXT)
    assert new.kek_version == 3
    assert provider.unwrap_dek(old, context=CONTEXT) == dek
    assert provider.unwrap_dek(new, context=CONTEXT) == dek
    rewrapped = rewrap_dek(provider, old, context=CONTEXT)
    assert rewrapped.kek_version == 3 and provider.unwrap_dek(rewrapped, context=CONTEXT) == dek
    assert rewrap_dek(provider, rewrapped, context=CONTEXT) is rewrapped


def test_unknown_version_rereads_the_file_once(tmp_path: Path) -> None:
    first = _ring(tmp_path)
    second = FileKeyProvider(first.path)
    rotate_kek(second.path)  # `vcm keys rotate` in another process
    second.reload()
    dek = new_data_key()
    wrapped = second.wrap_dek(dek, context=CONTEXT)
    assert wrapped.kek_version == 2
    # The first instance has not looked at the file since; unwrap makes it look.
    assert 2 not in first._loaded.keks
    assert first.unwrap_dek(wrapped, context=CONTEXT) == dek
    assert 2 in first._loaded.keks


def test_unknown_version_after_reread_is_a_key_ring_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = _ring(tmp_path)
    wrapped = provider.wrap_dek(new_data_key(), context=CONTEXT)
    reads: list[int] = []
    original = provider._reload

    def counted_reload() -> object:
        reads.append(1)
        return original()

    monkeypatch.setattr(provider, "_reload", counted_reload)
    with pytest.raises(KeyRingError, match="version 7") as caught:
        provider.unwrap_dek(WrappedKey(7, wrapped.blob), context=CONTEXT)
    assert reads == [1]
    assert str(provider.path) in str(caught.value)


def test_running_provider_follows_rotation_for_new_wraps_and_tokens(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    old_kid = provider.token_signing_key().kid
    rotate_kek(provider.path)
    new_kid = rotate_token_signing_key(provider.path)
    assert provider.current_kek_version() == 2
    assert provider.token_signing_key().kid == new_kid != old_kid
    assert set(provider.token_verification_keys()) == {old_kid, new_kid}


def test_token_rotation_keeps_old_kid_verifiable(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    old = provider.token_signing_key()
    signature = old.sign(b"claims")
    rotate_token_signing_key(provider.path)
    fresh = FileKeyProvider(provider.path)
    assert fresh.token_signing_key().kid != old.kid
    fresh.token_verification_keys()[old.kid].verify(signature, b"claims")
    assert fresh.kek_versions() == [1]  # only the token key changed


def test_concurrent_rotations_never_lose_a_version(tmp_path: Path) -> None:
    path = _ring(tmp_path).path
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(rotate_kek(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(2, 10))
    assert FileKeyProvider(path).kek_versions() == list(range(1, 10))


def test_dev_keyring_is_created_once_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    first = load_or_create_dev_keyring(data_dir)
    assert first.path == data_dir / "keyring.json" and first.is_dev
    second = load_or_create_dev_keyring(data_dir)
    assert second.index_root_key() == first.index_root_key()
    assert (first.path.stat().st_mode & 0o777) == 0o600


def test_switching_between_dev_and_production_while_running_is_refused(tmp_path: Path) -> None:
    provider = _ring(tmp_path, dev=True)
    doc = json.loads(provider.path.read_text())
    doc["dev"] = False
    fd = os.open(tmp_path / "new.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps(doc).encode())
    os.close(fd)
    os.replace(tmp_path / "new.json", provider.path)
    with pytest.raises(KeyRingError, match="dev and production"):
        provider.current_kek_version()


def test_signing_keys_and_jwk(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    audit = provider.audit_signing_key()
    audit.public_key().verify(audit.sign(b"checkpoint"), b"checkpoint")
    kid, public = next(iter(provider.token_verification_keys().items()))
    assert isinstance(public, Ed25519PublicKey)
    jwk = ed25519_jwk(kid, public)
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == kid
    assert "=" not in jwk["x"] and "d" not in jwk


def test_reprs_contain_no_key_material(tmp_path: Path) -> None:
    provider = _ring(tmp_path)
    wrapped = provider.wrap_dek(new_data_key(), context=CONTEXT)
    texts = [
        repr(provider),
        repr(provider.token_signing_key()),
        repr(provider.audit_signing_key()),
        repr(wrapped),
        repr(provider._loaded),
        repr(keyring_file.parse(provider.path, json.loads(provider.path.read_text()))),
    ]
    for secret in [*_secrets_in(provider.path), wrapped.blob]:
        for text in texts:
            for form in (secret.hex(), repr(secret), base64.b64encode(secret).decode()):
                assert form not in text
    assert "redacted" in repr(provider.token_signing_key())
