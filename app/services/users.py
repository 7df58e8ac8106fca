"""Users, and who may manage whom.

Rules:
- A system administrator sees every user and manages the system-wide roles (system
  administrators, agency administrators, auditors, analysts) in any agency.
- An agency administrator sees and manages only the users of their own agency, and
  only the working roles; any other user answers 404, as if it did not exist.
- Nobody disables or demotes themselves (the last administrator would lock everyone out).
- Any change of a user's state (disabled, enabled, role, agency, password, second
  factor reset) ends every login session of theirs: re-enabling never revives a token.
- A password an administrator sets for someone else must be changed at the next
  sign-in (`must_change_password`); one's own is changed with `POST /auth/password`.
- An administrator resets a user's second factor (`reset_mfa`), never their own.
- Audited: each read of one user (`user.read`, the caller's own profile included),
  each list (`user.list`, one event per page, no ids), each create and update (with
  the names of the fields set, `password` by name only), each `user.mfa_reset`, and
  each attempt on an existing user out of reach (outcome `denied`; the caller still gets 404).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import audit
from app.errors import Conflict, ValidationFailed
from app.etag import required_version, stale
from app.i18n import msg
from app.models import Agency, User
from app.schemas.user import UserCreate, UserUpdate
from app.security.passwords import hash_password, policy_problems
from app.security.permissions import MANAGEABLE_ROLES, Role
from app.security.principal import Principal
from app.services import auth as auth_service
from app.services import mfa
from app.services.pagination import PageParams, page_of, paginate
from app.services.reach import load_readable


def readable_users(principal: Principal) -> Select[Any]:
    """The one statement every user query starts from, filtered by the caller's reach."""
    statement = select(User)
    if principal.role is Role.SYSTEM_ADMIN:
        return statement
    if principal.role is Role.AGENCY_ADMIN:
        return statement.where(col(User.agency_id) == principal.agency_id)
    return statement.where(col(User.id) == principal.actor_id)


async def list_users(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    agency_id: uuid.UUID | None = None,
    role: Role | None = None,
) -> tuple[list[User], str | None]:
    statement = readable_users(principal)
    if agency_id:
        statement = statement.where(col(User.agency_id) == agency_id)
    if role:
        statement = statement.where(col(User.role) == role.value)
    rows = list(
        (
            await session.execute(paginate(statement, params, col(User.created_at), col(User.id)))
        ).scalars()
    )
    await audit.record(session, action="user.list", resource_type="user", principal=principal)
    return page_of(rows, params, lambda u: (u.created_at, u.id))


async def _reachable_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, action: str
) -> User:
    """The user if the caller may reach it; 404 otherwise, recorded as a denied
    attempt when the user exists."""
    user: User = await load_readable(
        session,
        principal,
        readable_users(principal),
        col(User.id),
        user_id,
        resource_type="user",
        action=action,
    )
    return user


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    user = await _reachable_user(session, principal, user_id, "user.read")
    await audit.record(
        session, action="user.read", resource_type="user", resource_id=user.id, principal=principal
    )
    return user


async def username_exists(session: AsyncSession, username: str) -> bool:
    found = await session.execute(
        select(col(User.id)).where(col(User.username) == username.lower())
    )
    return found.first() is not None


def _check_password(password: str, field: str = "password") -> None:
    problems = policy_problems(password)
    if problems:
        raise ValidationFailed([{"field": field, "message": p} for p in problems])


def _check_role_manageable(principal: Principal, role: Role) -> None:
    if role not in MANAGEABLE_ROLES.get(principal.role, frozenset()):
        raise ValidationFailed(
            [
                {
                    "field": "role",
                    "message": msg("you may not assign the role '{role}'", role=role.value),
                }
            ]
        )


async def _target_agency(
    session: AsyncSession, principal: Principal, agency_id: uuid.UUID | None
) -> Agency:
    if agency_id is None:
        agency_id = principal.agency_id
    agency = await session.get(Agency, agency_id)
    if agency is None or (
        principal.role is not Role.SYSTEM_ADMIN and agency.id != principal.agency_id
    ):
        raise ValidationFailed([{"field": "agency_id", "message": "unknown agency"}])
    return agency


async def create_user(session: AsyncSession, principal: Principal | None, data: UserCreate) -> User:
    """`principal=None` is the command line (`vcm create-user`), which may do anything."""
    if principal is not None:
        _check_role_manageable(principal, data.role)
        agency = await _target_agency(session, principal, data.agency_id)
    else:
        if data.agency_id is None:
            raise ValidationFailed([{"field": "agency_id", "message": "required"}])
        found = await session.get(Agency, data.agency_id)
        if found is None:
            raise ValidationFailed([{"field": "agency_id", "message": "unknown agency"}])
        agency = found
    _check_password(data.password)
    username = data.username.lower()
    if await username_exists(session, username):
        raise Conflict("This username is taken.")
    user = User(
        username=username,
        password_hash=hash_password(data.password),
        full_name=data.full_name,
        role=data.role.value,
        agency_id=agency.id,
    )
    session.add(user)
    await session.flush()
    await session.refresh(user)
    await audit.record(
        session,
        action="user.create",
        resource_type="user",
        resource_id=user.id,
        principal=principal,
        fields=sorted(data.model_fields_set),
    )
    return user


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    data: UserUpdate,
    *,
    if_match: str | None,
) -> User:
    user = await _reachable_user(session, principal, user_id, "user.update")
    expected_version = required_version(if_match)
    # Lock the row, then compare versions: two admins editing at once cannot both win.
    await session.refresh(user, with_for_update=True)
    if user.version != expected_version:
        raise stale(user.version)
    _check_role_manageable(principal, Role(user.role))
    changes = data.model_dump(exclude_unset=True)
    if user.id == principal.actor_id and (
        changes.get("is_active") is False or ("role" in changes and changes["role"] != user.role)
    ):
        raise Conflict("You cannot disable yourself or change your own role.")
    before = (user.role, user.agency_id, user.is_active)
    if "role" in changes and changes["role"] is not None:
        _check_role_manageable(principal, Role(changes["role"]))
        user.role = Role(changes["role"]).value
    if changes.get("agency_id") is not None:
        if principal.role is not Role.SYSTEM_ADMIN:
            raise ValidationFailed(
                [{"field": "agency_id", "message": "only a system administrator moves users"}]
            )
        user.agency_id = (await _target_agency(session, principal, changes["agency_id"])).id
    if changes.get("full_name") is not None:
        user.full_name = changes["full_name"]
    if changes.get("is_active") is not None:
        user.is_active = changes["is_active"]
    state_changed = before != (user.role, user.agency_id, user.is_active)
    if changes.get("password") is not None:
        _check_password(changes["password"])
        user.password_hash = hash_password(changes["password"])
        user.must_change_password = user.id != principal.actor_id
        state_changed = True
    if state_changed:
        await auth_service.revoke_user_sessions(session, user.id, reason="user_changed")
    user.version += 1
    user.updated_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session,
        action="user.update",
        resource_type="user",
        resource_id=user.id,
        principal=principal,
        fields=sorted(name for name, value in changes.items() if value is not None),
    )
    return user


async def reset_mfa(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> None:
    """Forget a user's second factor and end their sessions: they enrol again at their
    next sign-in (required roles) or may."""
    user = await _reachable_user(session, principal, user_id, "user.mfa_reset")
    await session.refresh(user, with_for_update=True)
    if user.id == principal.actor_id:
        raise Conflict("Another administrator resets your own second factor.")
    _check_role_manageable(principal, Role(user.role))
    await mfa.remove(session, user.id)
    await auth_service.revoke_user_sessions(session, user.id, reason="mfa_reset")
    user.version += 1
    user.updated_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session,
        action="user.mfa_reset",
        resource_type="user",
        resource_id=user.id,
        principal=principal,
    )


async def profile(session: AsyncSession, principal: Principal) -> tuple[User, Agency]:
    user, agency = (
        await session.execute(
            select(User, Agency)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(col(User.id) == principal.actor_id)
        )
    ).one()
    await audit.record(
        session, action="user.read", resource_type="user", resource_id=user.id, principal=principal
    )
    return user, agency
