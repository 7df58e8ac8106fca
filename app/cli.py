"""The `vcm` command: serve, migrate, create-user, seed-demo (and, as their issues land,
keys and audit).

Exit codes: 0 done; 1 the operation failed (the message says why); 2 the command line
or the configuration is wrong (the message says what to change).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from app.audit import cli as audit_cli
from app.config import Settings, get_settings
from app.keys import ConfigurationError, check_production, load_keyring
from app.security import keys_cli
from app.security.keyring import KeyRingError
from app.services import retention_cli
from app.services.webhooks import cli as webhooks_cli

log = logging.getLogger("vcm.cli")

EXIT_FAILED = 1
EXIT_USAGE = 2


class CommandError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL to use: `DATABASE_URL`, or an embedded server under the data
    folder, started here and stopped when the block ends (Ctrl-C included)."""
    if settings.database_url:
        yield settings.database_url
        return
    if settings.is_production:
        raise CommandError("DATABASE_URL is required in production.", EXIT_USAGE)
    from app.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir)
    try:
        url = server.start()
    except Exception as exc:
        raise CommandError(
            f"Could not start the embedded PostgreSQL in {server.pgdata}: {exc}. "
            f"See {server.pgdata / 'log'}, or set DATABASE_URL to use another server."
        ) from exc
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield url
    finally:
        server.stop()


def _migrate(url: str) -> None:
    from app import migrate

    try:
        migrate.upgrade(url)
    except Exception as exc:
        raise CommandError(f"Migrations failed: {exc}") from exc


def _seed_demo(url: str) -> None:
    from app.services.demo import DemoCredential, seed_demo

    async def run() -> list[DemoCredential]:
        from app.db import make_engine, make_sessionmaker

        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                created = await seed_demo(session)
                await session.commit()
                return created
        finally:
            await engine.dispose()

    created = asyncio.run(run())
    if not created:
        print("Demo data present (passwords were printed when it was first loaded).")
        return
    print("Demo users (passwords are shown this once; store them now):")
    for cred in created:
        print(f"  {cred.username:<20} {cred.role:<17} {cred.agency_code:<11} {cred.password}")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app import serve

    check_production(settings)
    load_keyring(settings)
    with database(settings) as url:
        _migrate(url)
        if not settings.is_production:
            _seed_demo(url)
        host = args.host or settings.host
        port = args.port or settings.port
        print(f"Serving on http://{host}:{port} (Ctrl-C stops the service and its database)")
        config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            # The app finds the client behind VCM_TRUSTED_PROXIES itself.
            proxy_headers=False,
        )
        serve.run(config, args.workers or settings.workers, settings.log_level)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    with database(settings) as url:
        _migrate(url)
    print("Database schema is at the latest migration.")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    if settings.is_production:
        raise CommandError("Demo data is never loaded in production.", EXIT_USAGE)
    with database(settings) as url:
        _migrate(url)
        _seed_demo(url)


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> None:
    from pydantic import ValidationError

    from app.errors import AppError
    from app.schemas.user import UserCreate
    from app.security.permissions import Role

    if not args.password_stdin:
        raise CommandError("Give the password on standard input with --password-stdin.", 2)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        role = Role(args.role)
    except ValueError as exc:
        raise CommandError(
            f"Unknown role {args.role!r}; one of: {', '.join(r.value for r in Role)}.", 2
        ) from exc

    async def run(url: str) -> str:
        from app.db import make_engine, make_sessionmaker
        from app.schemas.agency import AgencyCreate
        from app.services import agencies, users

        engine = make_engine(url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                agency = await agencies.get_agency_by_code(session, args.agency_code)
                if agency is None:
                    if not args.create_agency:
                        raise CommandError(
                            f"No agency with code {args.agency_code!r}; add --create-agency "
                            "to create it (kind national), or create it first."
                        )
                    agency = await agencies.create_agency(
                        session,
                        AgencyCreate(code=args.agency_code, name=args.agency_code, kind="national"),
                    )
                user = await users.create_user(
                    session,
                    None,
                    UserCreate(
                        username=args.username,
                        password=password,
                        full_name=args.full_name or args.username,
                        role=role,
                        agency_id=agency.id,
                    ),
                )
                await session.commit()
                return str(user.id)
        finally:
            await engine.dispose()

    with database(settings) as url:
        _migrate(url)
        try:
            user_id = asyncio.run(run(url))
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise CommandError(f"Invalid value for: {fields}.", EXIT_USAGE) from exc
        except AppError as exc:
            reasons = "; ".join(f"{e['field']} {e['message']}" for e in exc.extra.get("errors", []))
            raise CommandError(f"{exc.detail or exc.title_en}. {reasons}".strip()) from exc
    print(f"Created user {args.username} ({role.value}) with id {user_id}.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vcm", description="Victim case-management service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (embedded database unless DATABASE_URL)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed-demo", help="load demo agencies and users (dev only)").set_defaults(
        func=cmd_seed_demo
    )

    create = sub.add_parser("create-user", help="create a user (password from stdin)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True)
    create.add_argument("--agency-code", required=True)
    create.add_argument("--full-name")
    create.add_argument("--password-stdin", action="store_true")
    create.add_argument("--create-agency", action="store_true")
    create.set_defaults(func=cmd_create_user)
    keys_cli.register(sub)
    audit_cli.register(sub)
    webhooks_cli.register(sub)
    retention_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.logging import configure

    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except Exception as exc:  # pydantic's message names the variable and the problem
        print(f"vcm: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure(settings.log_level)
    try:
        args.func(args, settings)
    except CommandError as exc:
        print(f"vcm: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigurationError, KeyRingError) as exc:
        print(f"vcm: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
