"""The money rules of supports, as data: what is given once per person, what is paid at
actual cost against a receipt, how time units count against the essential-needs cap,
and who may extend that cap. Checked in `app.services.cases.support`.

- Once per person (`ONE_OFF`): the initial hardship allowance (letter k) and the first
  year's health-insurance contribution. A second request for the same person that is
  not rejected or cancelled is 409 naming the first; a partial unique index on
  `support_services (person_id, type)` holds it under concurrency.
- Actual cost (`ACTUAL_COST`): medical care (b), interpretation (c), legal support (d)
  and travel tickets (e) are paid against a receipt {number, date, issuer, amount}
  where no rate is in force for the type and unit on the service date; where one is,
  the rate applies and a receipt is 422. A receipt amount waits for a supervisor's
  approval (never the requester's), also when a participating provider records it.
  Other types have a rate, or a supervisor's override with a reason.
- The essential-needs cap (`ESSENTIAL_NEEDS_MAX_DAYS` per person per case) counts
  every time unit in days (`CAP_DAYS_PER_UNIT`: a day 1, a week 7, a month 30, the
  social-assistance month); essential needs come in those units only (another unit is
  422, for a request and for a rate). Rows recorded in another unit before this rule
  count one day per unit, so the cap never counts less than was given.
- Beyond the cap, an extension with a reason comes only from a supervisor of the lead
  agency when its kind has `CAP_EXTENSION_LEAD` (social affairs, the provincial
  department running the regime, as data), or of the facility: the agency that
  provides the essential needs (the participant recording its own service, the agency
  the lead names, or the lead giving it itself) when its kind has
  `CAP_EXTENSION_FACILITY` (a facility that accommodates: social affairs' centres, an
  NGO shelter; a commune's first support is not one).
"""

from __future__ import annotations

from app.domain.entitlements import ESSENTIAL_NEEDS_MAX_DAYS, SupportType

T = SupportType

ONE_OFF = frozenset({T.INITIAL_ALLOWANCE, T.HEALTH_INSURANCE})
ACTUAL_COST = frozenset({T.MEDICAL, T.INTERPRETATION, T.LEGAL_SUPPORT, T.TRAVEL})
CAP_DAYS_PER_UNIT: dict[str, int] = {"day": 1, "week": 7, "month": 30}
# A row in another unit (recorded before the rule) counts this many days per unit.
LEGACY_DAYS_PER_UNIT = 1
CAP_EXTENSION_LEAD = "extend_care"
CAP_EXTENSION_FACILITY = "support"

__all__ = [
    "ACTUAL_COST",
    "CAP_DAYS_PER_UNIT",
    "CAP_EXTENSION_FACILITY",
    "CAP_EXTENSION_LEAD",
    "ESSENTIAL_NEEDS_MAX_DAYS",
    "LEGACY_DAYS_PER_UNIT",
    "ONE_OFF",
    "one_off_predicate",
]


def one_off_predicate() -> str:
    """The SQL condition of the rows that hold a person's one-off support (the partial
    unique index's WHERE)."""
    types = ", ".join(f"'{t.value}'" for t in sorted(ONE_OFF))
    return f"type IN ({types}) AND status IN ('requested', 'approved', 'delivered')"
