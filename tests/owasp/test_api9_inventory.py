"""OWASP API9:2023 improper inventory management.

The check lives in tests/test_route_inventory.py: the routes the app serves must equal
the reviewed snapshot tests/routes.snapshot, so a route cannot ship (or vanish)
without review. Here: that check exists and the snapshot lists only well-formed
pairs, and production publishes no schema of the API (see API8).
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parents[1]
PAIR = re.compile(r"^(GET|POST|PATCH|PUT|DELETE) /[A-Za-z0-9_./{}-]*$")


def test_the_inventory_check_and_its_snapshot_exist() -> None:
    assert "def test_routes_match_the_reviewed_snapshot" in (
        TESTS / "test_route_inventory.py"
    ).read_text(encoding="utf-8")
    lines = [
        line
        for line in (TESTS / "routes.snapshot").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(lines) >= 40
    assert all(PAIR.match(line) for line in lines), [x for x in lines if not PAIR.match(x)]
    assert len(lines) == len(set(lines))
