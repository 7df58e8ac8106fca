"""Reference lists: `GET /api/v1/reference/ethnicities`. Read-only code lists with
no personal data, for any signed-in caller; not audited (nothing of anyone's is read).
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from app.db import TransactionRoute
from app.deps import CurrentPrincipal
from app.domain.ethnicities import ETHNICITIES
from app.schemas.codes import EthnicityPublic
from app.schemas.common import problem_responses

router = APIRouter(
    route_class=TransactionRoute,
    prefix="/api/v1/reference",
    tags=["reference"],
    responses=problem_responses(401, 403),
)

_ETHNICITIES = [EthnicityPublic(**asdict(e)) for e in ETHNICITIES.values()]


@router.get("/ethnicities", response_model=list[EthnicityPublic])
async def list_ethnicities(principal: CurrentPrincipal) -> list[EthnicityPublic]:
    """Vietnam's 54 ethnic groups with the General Statistics Office's codes, then
    `foreign` and `unknown`: the codes a person's `ethnicity` takes."""
    return _ETHNICITIES
