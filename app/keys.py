"""Loading the key ring the settings point to, with the production refusals."""

from __future__ import annotations

from app.config import Settings
from app.security.keyring import FileKeyProvider, KeyProvider, load_or_create_dev_keyring


class ConfigurationError(Exception):
    """The service must not start with this configuration; the message says why and
    what to do."""


def load_keyring(settings: Settings) -> KeyProvider:
    if settings.keyring_path is not None:
        provider: KeyProvider = FileKeyProvider(settings.keyring_path)
    elif settings.is_production:
        raise ConfigurationError("VCM_KEYRING is required in production.")
    else:
        provider = load_or_create_dev_keyring(settings.data_dir)
    if settings.is_production and provider.is_dev:
        raise ConfigurationError(
            "The key ring is a development key ring; production needs one made with "
            "`vcm keys init --production` and kept outside VCM_DATA_DIR."
        )
    return provider


def check_production(settings: Settings) -> None:
    problems = settings.production_problems()
    if problems:
        raise ConfigurationError("Refusing to start in production: " + " ".join(problems))
