"""Who is calling: the authenticated principal every service receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.security.permissions import Permission, Role, has_permission


@dataclass(frozen=True)
class Principal:
    """A user, or an integration client (`actor_type` "client", role
    `integration_client`, narrowed by `scopes`), acting for one agency."""

    actor_id: uuid.UUID
    role: Role
    agency_id: uuid.UUID
    agency_kind: str
    province_code: str | None
    token_id: str | None = None
    session_id: uuid.UUID | None = None
    client_address: str | None = None
    request_id: str | None = None
    actor_type: str = "user"
    # For integration clients, the scopes granted; None for users (role decides).
    scopes: frozenset[str] | None = field(default=None)

    def can(self, permission: Permission) -> bool:
        if self.scopes is not None and permission.value not in self.scopes:
            return False
        return has_permission(self.role, permission)
