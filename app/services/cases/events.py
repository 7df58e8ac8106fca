"""The case's webhook events, queued in the transaction of the change they announce
(`app.services.webhooks.outbox`), to the case's lead agency:

- `case.created`: a case opened (an intake, or a hotline triage opening cases);
- `case.status_changed`: the state machine moved it (`transitions.apply_transition`),
  with the statuses from and to;
- `case.overdue`: its next legal deadline (`cases.next_due_at`) passed without the
  next step. The webhook worker's periodic sweep (`announce_overdue`) announces each
  deadline once: `cases.overdue_announced_for` keeps the deadline last announced,
  and a new deadline (after a transition) is announced again when it passes.

Payloads carry ids, codes and times only, never a person's identity.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.domain.workflow import CaseStatus
from app.models import Case
from app.services.webhooks.outbox import emit

# Overdue cases announced per sweep at most; the next tick takes the rest.
SWEEP_BATCH = 200


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _base(case: Case) -> dict[str, str]:
    return {"case_id": str(case.id), "case_number": case.case_number}


async def announce_created(session: AsyncSession, case: Case) -> None:
    data = {
        **_base(case),
        "status": case.status,
        "intake_source": case.intake_source,
        "province_code": case.province_code,
        "received_at": _utc(case.received_at),
    }
    if case.hotline_report_id is not None:
        data["hotline_report_id"] = str(case.hotline_report_id)
    await emit(session, event_type="case.created", agency_ids=[case.owner_agency_id], data=data)


async def announce_status_changed(
    session: AsyncSession, case: Case, source: CaseStatus, target: CaseStatus
) -> None:
    data = {**_base(case), "from_status": source.value, "to_status": target.value}
    if case.closure_code is not None:
        data["closure_code"] = case.closure_code
    if case.next_due_at is not None:
        data["next_due_at"] = _utc(case.next_due_at)
    await emit(
        session, event_type="case.status_changed", agency_ids=[case.owner_agency_id], data=data
    )


async def announce_overdue(session: AsyncSession, now: datetime | None = None) -> int:
    """Announce `case.overdue` once for every open case whose deadline passed and was
    not announced yet; the number announced. Rows locked by others are skipped (the
    next tick takes them), so concurrent workers never announce a deadline twice."""
    now = now or datetime.now(UTC)
    cases = (
        (
            await session.execute(
                select(Case)
                .where(
                    col(Case.status) != CaseStatus.CLOSED.value,
                    col(Case.next_due_at) < now,
                    or_(
                        col(Case.overdue_announced_for).is_(None),
                        col(Case.overdue_announced_for) != col(Case.next_due_at),
                    ),
                )
                .order_by(col(Case.next_due_at))
                .limit(SWEEP_BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for case in cases:
        assert case.next_due_at is not None
        await emit(
            session,
            event_type="case.overdue",
            agency_ids=[case.owner_agency_id],
            data={**_base(case), "status": case.status, "due_at": _utc(case.next_due_at)},
        )
        # Bookkeeping only: no new version, no `updated_at` (the case did not change).
        case.overdue_announced_for = case.next_due_at
    await session.flush()
    return len(cases)
