"""Codes recorded in a case's first days: what the person needed first and the risk
they face (intake, `first_needs` and `risk_level`)."""

from __future__ import annotations

from enum import StrEnum


class FirstNeed(StrEnum):
    SHELTER = "shelter"
    FOOD = "food"
    MEDICAL_URGENT = "medical_urgent"
    INTERPRETATION = "interpretation"
    CONTACT_FAMILY = "contact_family"
    SAFETY = "safety"
    OTHER = "other"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
