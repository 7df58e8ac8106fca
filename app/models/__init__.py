"""Table models. Importing this package registers every table on the metadata."""

from app.models.agency import Agency
from app.models.auth import AuthSession, LoginFailure, RefreshToken
from app.models.idempotency import IdempotencyRecord
from app.models.reference import AgencyKind, Province
from app.models.user import User

__all__ = [
    "Agency",
    "AgencyKind",
    "AuthSession",
    "IdempotencyRecord",
    "LoginFailure",
    "Province",
    "RefreshToken",
    "User",
]
