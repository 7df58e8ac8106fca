"""openapi.yaml is generated from the app (`make openapi`) and must not drift."""

from __future__ import annotations

from pathlib import Path

from app.openapi import render

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_yaml_matches_the_app() -> None:
    checked_in = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    assert checked_in == render(), "openapi.yaml is stale: run `make openapi` and commit it"


def test_every_operation_documents_problem_errors() -> None:
    import yaml

    document = yaml.safe_load(render())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" in responses and "500" in responses, (method, path)
