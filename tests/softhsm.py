"""A SoftHSM2 token per test, for the PKCS#11 key ring (`app.security.keyring_pkcs11`).

Each test gets its own token folder (`SOFTHSM2_CONF` pointing at a configuration
under its tmp_path) and a freshly initialised token. SoftHSM2 comes from Debian's
`softhsm2` package (`make test` installs it when missing); without it the tests skip,
except in CI (`CI` set), where its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.security.keyring_pkcs11 import DEFAULT_MODULE, Pkcs11Config

MODULE = Path(os.environ.get("VCM_PKCS11_MODULE", str(DEFAULT_MODULE)))
PIN = "4921-test-pin"


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pkcs11Config]:
    util = shutil.which("softhsm2-util")
    if util is None or not MODULE.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"SoftHSM2 is missing in CI ({MODULE}); apt-get install softhsm2")
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    import pkcs11

    tokens = tmp_path / "softhsm-tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    label = f"vcm-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", "so-" + PIN, "--pin", PIN],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    # The module reads SOFTHSM2_CONF when initialised: start it afresh on this folder.
    pkcs11.lib(str(MODULE)).reinitialize()
    yield Pkcs11Config(module=MODULE, token_label=label, pin=PIN)
    pkcs11.lib(str(MODULE)).finalize()
