"""The deadline policy in force, from the settings (VCM_DEADLINE_*)."""

from __future__ import annotations

from app.config import get_settings
from app.domain.workflow import DeadlinePolicy


def deadline_policy() -> DeadlinePolicy:
    settings = get_settings()
    return DeadlinePolicy(
        initial_verification_days=settings.deadline_initial_verification_days,
        identification_days=settings.deadline_identification_days,
        support_plan_days=settings.deadline_support_plan_days,
    )
