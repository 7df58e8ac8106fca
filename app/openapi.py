"""`python -m app.openapi` prints the app's OpenAPI document as YAML (`make openapi`)."""

from __future__ import annotations

import sys
from typing import Any

import yaml

from app.config import Settings


def document() -> dict[str, Any]:
    from app.main import create_app

    # Generated with docs on and a dev environment, so the document does not depend on
    # the caller's environment.
    app = create_app(Settings(VCM_ENV="dev", VCM_DOCS=True, DATABASE_URL=None))
    return app.openapi()


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=True, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
