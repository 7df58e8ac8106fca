"""The API's inventory (OWASP API9:2023): the routes the app serves must equal the
reviewed snapshot in tests/routes.snapshot, so no route ships without review."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings
from app.main import create_app
from tests.routes import api_routes

SNAPSHOT = Path(__file__).with_name("routes.snapshot")


def test_routes_match_the_reviewed_snapshot() -> None:
    reviewed = {
        tuple(line.split(" ", 1))
        for line in SNAPSHOT.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    served = api_routes(create_app(Settings(VCM_ENV="dev")))  # type: ignore[call-arg]
    added, removed = sorted(served - reviewed), sorted(reviewed - served)
    assert not added and not removed, (
        f"Unreviewed routes {added}, routes gone {removed}: review them (auth, audit, "
        f"404 across agencies, problem+json) and update {SNAPSHOT.name}."
    )
