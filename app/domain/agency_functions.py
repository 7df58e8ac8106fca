"""The agency function each step of a case needs, beyond the case's own actions
(`app.domain.participation.ACTION_FUNCTIONS`) and its status moves
(`app.domain.workflow.MOVES`): pure data, checked in the services.

Agency kinds carry their functions as data (`agency_kinds.functions`), so each rule
names functions, never kinds. A step needs any one of the functions listed.

Two sides of a step:
- the acting agency: opening a case (intake, and a hotline report triaged into a
  case) needs `receive`; a support requested, approved or delivered by the lead needs
  a function that may deliver its type (`app.domain.participation.SERVICE_FUNCTIONS`,
  the same table as for a participating provider: a loan `loans`, legal aid
  `legal_aid`, medical care `medical_support` or `support`, essential needs and travel
  `support` or `first_support`, the rest `support`; approving a participating
  provider's receipt needs none, the provider's was checked). Missing: 403
  `agency-function-required` naming the function. Extending the essential-needs cap
  needs `extend_care` (the lead) or `support` (the facility giving them):
  `app.domain.support_money`.
- an agency the caller names: a hotline report's forward target must take reports
  (`receive`: police, border guard, coast guard, the commune, ...); the agency
  responsible for a protection measure must `protect`; a support's provider must be
  able to deliver its type; a referral's receiver needs what its purpose needs
  (`REFERRAL_RECEIVER`). Missing: 422 on the field naming the agency.
"""

from __future__ import annotations

from collections.abc import Iterable

OPEN_CASE = frozenset({"receive"})
FORWARD_TARGET = frozenset({"receive"})
MEASURE_RESPONSIBLE = frozenset({"protect"})
# A referral's purpose -> what its receiver needs. Repatriation goes to the border
# guard (hand over at the border) or a diplomatic mission (repatriate); a transfer
# makes the receiver the lead, which must receive cases; protection needs protect.
# Other purposes are checked when the participant acts (its role's actions).
REFERRAL_RECEIVER: dict[str, frozenset[str]] = {
    "repatriation": frozenset({"repatriate", "hand_over"}),
    "transfer": frozenset({"receive"}),
    "protection": frozenset({"protect"}),
}


def lacking(needed: frozenset[str], functions: Iterable[str]) -> str | None:
    """None when `functions` has one of `needed`, else the missing function(s) named
    for a message (`a` or `a or b`)."""
    if needed & set(functions):
        return None
    return " or ".join(sorted(needed))
