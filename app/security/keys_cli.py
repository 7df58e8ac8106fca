"""`vcm keys …`: make a production key ring, rotate the KEK, show which versions are in use.

- `vcm keys init [--production] PATH`: a new key ring file (mode 0600); never
  overwrites one (that would erase every person at once).
- `vcm keys rotate [--batch-size N] [--rewrap-only]`: add a KEK version, then rewrap
  every DEK and webhook signing secret under it in short batches while the service
  runs (`app.services.key_rotation` explains the steps and how a DEK is rotated).
  `--rewrap-only` finishes an interrupted rotation without adding a version.
- `vcm keys status`: the key ring's versions and how many DEKs and webhook secrets
  each one wraps.

With `VCM_KEK_PROVIDER=pkcs11` the KEKs are on the HSM (`app.security.keyring_pkcs11`):
`init` writes the file without a KEK and generates version 1 on the token (next to an
existing file, it keeps the file and generates the token's first version, which
`rotate --rewrap-only` then moves every data key to); `rotate` generates the next
version on the token.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from app.config import Settings

DEFAULT_BATCH_SIZE = 500


def register(subparsers: Any) -> None:
    """Add the `keys` command and its subcommands to the `vcm` parser."""
    keys = subparsers.add_parser("keys", help="key ring: init, rotate, status")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    init = sub.add_parser("init", help="create a new key ring file (never overwrites)")
    init.add_argument("path", type=Path)
    init.add_argument(
        "--production", action="store_true", help="a production key ring (else development)"
    )
    init.set_defaults(func=cmd_init)

    rotate = sub.add_parser("rotate", help="add a KEK version and rewrap every data key")
    rotate.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    rotate.add_argument(
        "--rewrap-only",
        action="store_true",
        help="do not add a version; rewrap keys still under older ones",
    )
    rotate.set_defaults(func=cmd_rotate)

    sub.add_parser("status", help="KEK versions and the data keys under each").set_defaults(
        func=cmd_status
    )


def cmd_init(args: argparse.Namespace, settings: Settings) -> None:
    from app.security.keyring import generate_keyring

    path: Path = args.path
    if not path.parent.is_dir():
        from app.cli import EXIT_USAGE, CommandError

        raise CommandError(f"Folder {path.parent} does not exist.", EXIT_USAGE)
    if settings.kek_provider == "pkcs11":
        _init_on_token(args, settings)
        return
    generate_keyring(path, dev=not args.production)
    kind = "production" if args.production else "development"
    print(f"Created a {kind} key ring at {path} (mode 0600).")
    print("Set VCM_KEYRING to this path, keep it outside VCM_DATA_DIR and out of database")
    print("backups, and back it up separately: without it no encrypted field can be read.")


def _init_on_token(args: argparse.Namespace, settings: Settings) -> None:
    from app.keys import pkcs11_keyring
    from app.security.keyring import FileKeyProvider, generate_keyring

    path: Path = args.path
    if path.exists():
        rest = FileKeyProvider(path)
        print(f"Key ring {path} exists; kept as it is (its KEKs, if any, stay readable).")
    else:
        rest = generate_keyring(path, dev=not args.production, kek=False)
        kind = "production" if args.production else "development"
        print(f"Created a {kind} key ring at {path} (mode 0600), without KEKs.")
    keys: Any = pkcs11_keyring(settings, rest)
    try:
        if keys.token_versions():
            print(f"Token {keys.token_label!r} already holds KEK versions {keys.token_versions()}.")
        else:
            version = keys.generate_kek()
            print(
                f"Generated KEK version {version} on token {keys.token_label!r} "
                "(not extractable: back it up with the HSM's own backup)."
            )
            if rest.kek_versions():
                print("Run `vcm keys rotate --rewrap-only` to move every data key under it.")
    finally:
        keys.close()
    print("Set VCM_KEYRING to the file and VCM_KEK_PROVIDER=pkcs11; keep the file outside")
    print("VCM_DATA_DIR and out of database backups, and back it up separately.")


def _file_keyring(settings: Settings) -> Any:
    """The key ring, file or HSM; a provider rotated by its own service is refused."""
    from app.cli import EXIT_USAGE, CommandError
    from app.keys import load_keyring
    from app.security.keyring import FileKeyProvider

    keys = load_keyring(settings)
    if not (isinstance(keys, FileKeyProvider) or hasattr(keys, "generate_kek")):
        raise CommandError("This key provider is rotated by its own service (KMS).", EXIT_USAGE)
    return keys


async def _counts(url: str) -> tuple[dict[int, int], dict[int, int]]:
    """Data keys and webhook signing secrets per KEK version."""
    from sqlalchemy.exc import DBAPIError

    from app.cli import CommandError
    from app.db import make_engine, make_sessionmaker
    from app.services.key_rotation import kek_version_counts, secret_version_counts

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await kek_version_counts(session), await secret_version_counts(session)
    except DBAPIError as exc:
        raise CommandError(
            f"Cannot read the data keys ({type(exc.orig).__name__}); is the schema current? "
            "Run `vcm migrate`."
        ) from exc
    finally:
        await engine.dispose()


def _print_counts(keys: Any, counts: tuple[dict[int, int], dict[int, int]]) -> None:
    data_keys, secrets = counts
    current = keys.current_kek_version()
    print(f"Key ring {keys.path}: KEK versions {keys.kek_versions()}, current {current}.")
    if hasattr(keys, "token_versions"):
        print(f"KEKs on PKCS#11 token {keys.token_label!r}: versions {keys.token_versions()}.")
    if not data_keys and not secrets:
        print("No data keys stored.")
    for version in sorted(set(data_keys) | set(secrets)):
        note = " (current)" if version == current else ""
        line = f"  version {version}{note}: {data_keys.get(version, 0)} data keys"
        if secrets.get(version):
            line += f", {secrets[version]} webhook, TOTP and incident secrets"
        print(line)
    stale = sum(c for v, c in (*data_keys.items(), *secrets.items()) if v < current)
    if stale:
        print(
            f"{stale} data keys or webhook secrets are under older versions: "
            "run `vcm keys rotate --rewrap-only`."
        )


def cmd_status(args: argparse.Namespace, settings: Settings) -> None:
    from app.cli import database

    keys = _file_keyring(settings)
    with database(settings) as url:
        _print_counts(keys, asyncio.run(_counts(url)))


def cmd_rotate(args: argparse.Namespace, settings: Settings) -> None:
    from app.cli import EXIT_USAGE, CommandError, database
    from app.security.keyring import rotate_kek

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1.", EXIT_USAGE)
    keys = _file_keyring(settings)
    with database(settings) as url:
        before = asyncio.run(_counts(url))  # fails early if the database is not ready
        if args.rewrap_only:
            print(f"KEK version {keys.current_kek_version()} is current; rewrapping.")
        else:
            on_token = hasattr(keys, "generate_kek")
            version = keys.generate_kek() if on_token else rotate_kek(keys.path)
            where = f" on token {keys.token_label!r}" if on_token else ""
            print(f"Added KEK version {version}{where} and made it current.")
        report = asyncio.run(_rewrap(url, keys, args.batch_size))
        secrets = report.webhook_secrets + report.totp_secrets + report.incident_keys
        print(
            f"Rewrapped {report.rewrapped} of {sum(before[0].values())} data keys in "
            f"{report.batches} batches under version {report.kek_version}, and "
            f"{secrets} of {sum(before[1].values())} "
            "webhook, TOTP and incident secrets."
        )
        _print_counts(keys, asyncio.run(_counts(url)))
    failed = [*report.failed, *report.failed_secrets]
    if failed:
        raise CommandError(
            f"{len(report.failed)} data keys and {len(report.failed_secrets)} webhook "
            "secrets failed to unwrap and were left under their old version (recorded in "
            "the audit trail as integrity errors): " + ", ".join(str(k) for k in failed[:10])
        )


async def _rewrap(url: str, keys: Any, batch_size: int) -> Any:
    from app.db import make_engine, make_sessionmaker
    from app.services.key_rotation import rewrap_all

    engine = make_engine(url, pool_size=2)
    try:
        return await rewrap_all(make_sessionmaker(engine), keys, batch_size=batch_size)
    finally:
        await engine.dispose()
