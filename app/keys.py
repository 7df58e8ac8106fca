"""Loading the key ring the settings point to, with the production refusals."""

from __future__ import annotations

from app.config import Settings
from app.security.keyring import FileKeyProvider, KeyProvider, load_or_create_dev_keyring


class ConfigurationError(Exception):
    """The service must not start with this configuration; the message says why and
    what to do."""


def load_keyring(settings: Settings) -> KeyProvider:
    if settings.keyring_path is not None:
        ring = FileKeyProvider(settings.keyring_path)
    elif settings.is_production:
        raise ConfigurationError("VCM_KEYRING is required in production.")
    else:
        ring = load_or_create_dev_keyring(settings.data_dir)
    provider = pkcs11_keyring(settings, ring) if settings.kek_provider == "pkcs11" else ring
    if settings.is_production and provider.is_dev:
        raise ConfigurationError(
            "The key ring is a development key ring; production needs one made with "
            "`vcm keys init --production` and kept outside VCM_DATA_DIR."
        )
    return provider


def pkcs11_keyring(settings: Settings, rest: FileKeyProvider) -> KeyProvider:
    """The HSM key ring (`VCM_KEK_PROVIDER=pkcs11`): KEKs on the token, the other keys
    in the file `rest`."""
    try:
        from app.security.keyring_pkcs11 import Pkcs11Config, Pkcs11KeyProvider
    except ImportError:
        raise ConfigurationError(
            "VCM_KEK_PROVIDER=pkcs11 needs python-pkcs11: pip install 'vcm[hsm]'."
        ) from None
    pin = settings.pkcs11_user_pin()
    if not pin:
        raise ConfigurationError("VCM_PKCS11_PIN_FILE or VCM_PKCS11_PIN is required.")
    config = Pkcs11Config(
        module=settings.pkcs11_module,
        token_label=settings.pkcs11_token_label,
        pin=pin,
        key_label=settings.pkcs11_key_label,
    )
    return Pkcs11KeyProvider(rest, config)


def check_production(settings: Settings) -> None:
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("Refusing to start in production: " + " ".join(problems))
