"""The application factory: routers, middleware, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import errors
from app.audit import worker as audit_worker
from app.config import Settings, get_settings
from app.db import TransactionRoute, make_engine, make_sessionmaker
from app.http import ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS
from app.keys import check_production, load_keyring
from app.middleware import RequestContextMiddleware
from app.routers import agencies, audit, auth, cases, hotline, ops, persons, users
from app.routers import break_glass as break_glass_routes
from app.routers import case_persons as case_persons_routes
from app.routers import case_records as case_records_routes
from app.routers import criminal as criminal_routes
from app.routers import data_requests as data_request_routes
from app.routers import exports as exports_routes
from app.routers import incidents as incident_routes
from app.routers import integration_clients as integration_clients_routes
from app.routers import reference as reference_routes
from app.routers import referrals as referrals_routes
from app.routers import reports as reports_routes
from app.routers import support as support_routes
from app.routers import webhooks as webhooks_routes
from app.schemas.common import problem_responses
from app.security.blind_index import BlindIndexer
from app.security.tokens import TokenService
from app.services.webhooks import worker as webhook_worker

API_DESCRIPTION = (
    "Victim case management for Vietnam's anti-human-trafficking agencies. "
    "Errors are RFC 9457 problem+json; identity fields are masked unless revealed "
    "with a stated purpose."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start through `vcm serve`.")
        keys = load_keyring(settings)
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.settings = settings
        app.state.keys = keys
        app.state.indexer = BlindIndexer(keys.index_root_key())
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.tokens = TokenService(
            keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
        try:
            async with (
                audit_worker.running(
                    app.state.sessionmaker,
                    keys,
                    interval_seconds=settings.audit_seal_interval_seconds,
                    checkpoint_interval=timedelta(
                        seconds=settings.audit_checkpoint_interval_seconds
                    ),
                ),
                webhook_worker.running(app.state.sessionmaker, keys, settings),
            ):
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        # Metrics are Prometheus (/metrics) and logs JSON on stderr; FastAPI's native
        # OpenTelemetry stays off (its check ran on every request: 2 % of a case read).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="vcm: victim case management API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.show_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        responses=problem_responses(400, 413, 422, 500, 503),
    )
    app.state.settings = settings
    # Routes added to the app itself run in a transaction too (the routers set theirs).
    app.router.route_class = TransactionRoute
    errors.install(app)
    # One router per line: features add theirs without touching their neighbours'.
    # A request is matched against the routes in this order, one by one, so the
    # busiest (case routes) come first; no two routers' paths overlap.
    routers = [
        cases.router,
        case_records_routes.router,
        case_persons_routes.router,
        criminal_routes.router,
        break_glass_routes.router,
        incident_routes.router,
        data_request_routes.router,
        ops.router,
        auth.router,
        agencies.router,
        users.router,
        persons.router,
        audit.router,
        support_routes.router,
        hotline.router,
        exports_routes.router,
        reports_routes.router,
        referrals_routes.router,
        integration_clients_routes.router,
        webhooks_routes.router,
        reference_routes.router,
    ]
    for router in routers:
        app.include_router(router)
    app.include_router(auth.wellknown)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=ALLOWED_REQUEST_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        trusted_proxies=settings.proxy_networks,
    )
    return app
