"""What each relation to a case allows: the rule tables behind the one access rule
(`app.services.cases.access`), pure data and pure functions.

A principal's grant on a case is the union of what it holds as
- lead: staff of the case's owning agency (the lead, cơ quan chủ trì), or the user the
  case is assigned to: every action, subject to the agency function an action needs;
- former lead: an agency that transferred the case away keeps the reads;
- participant: an agency whose referral of this case it accepted (tham gia phối hợp),
  with the referral's purpose as its role, while the referral is accepted and its
  legal basis holds. Its grant is its role's actions ∩ its agency kind's functions
  (the user's permissions are the route's guard), and it sees only the referral's
  shared fields.
- break-glass: a user with an unexpired, unrevoked emergency read of the case
  (`app.domain.break_glass`): the case read only, whole.

Actions are named like the audit actions of the case routes (`evidence.create`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.break_glass import BREAK_GLASS_READS
from app.domain.criminal import INVESTIGATING_FUNCTIONS
from app.domain.entitlements import SupportType
from app.i18n import msg


class ParticipantRole(StrEnum):
    VERIFICATION = "verification"
    IDENTIFICATION = "identification"
    INVESTIGATION = "investigation"
    SUPPORT = "support"
    PROTECTION = "protection"
    REPATRIATION = "repatriation"
    NOTIFICATION = "notification"


# Actions that only read: what a former lead keeps after a transfer.
READS = frozenset(
    {
        "case.read",
        "case.reveal",
        "case_timeline.read",
        "case.access_log",
        "disclosure.list",
        "participant.list",
        "consent.list",
        "criminal_proceeding.list",
        "evidence.list",
        "identification.list",
        "protection_measure.list",
        "support_service.list",
        "case_person.list",
        "case_person.read",
        "case_person.reveal",
        "verification.list",
    }
)

_SEE = frozenset({"case.read", "case.reveal"})
_IDENTIFY = _SEE | {"evidence.create", "evidence.list", "case.identification"}
_IDENTIFY |= {"identification.list", "verification.list"}
# Police and border guard taking part in an identification or investigation record
# the criminal proceedings the victim's case belongs to.
_IDENTIFY |= {
    "criminal_proceeding.create",
    "criminal_proceeding.list",
    "criminal_proceeding.update",
}
_SUPPORT = _SEE | {
    "support_service.create",
    "support_service.list",
    "support_service.deliver",
    "support_service.cancel",
}
R = ParticipantRole
ROLE_ACTIONS: dict[ParticipantRole, frozenset[str]] = {
    R.VERIFICATION: _SEE
    | {"evidence.create", "evidence.list", "verification.create", "verification.list"},
    R.IDENTIFICATION: _IDENTIFY,
    R.INVESTIGATION: _IDENTIFY,
    R.SUPPORT: _SUPPORT,
    R.REPATRIATION: _SUPPORT,
    R.PROTECTION: _SEE
    | {"protection_measure.create", "protection_measure.list", "protection_measure.update"},
    R.NOTIFICATION: _SEE,
}

# The agency function (agency_kinds.functions) an action needs, whoever acts (the
# lead too): recording and changing protection measures is the protect function's; a
# set when any one of its functions will do.
ACTION_FUNCTIONS: dict[str, str | frozenset[str]] = {
    "evidence.create": "verify",
    "verification.create": "verify",
    "case.identification": "identify",
    "criminal_proceeding.create": INVESTIGATING_FUNCTIONS,
    "criminal_proceeding.update": INVESTIGATING_FUNCTIONS,
    "protection_measure.create": "protect",
    "protection_measure.update": "protect",
}
# What a participant needs beyond them.
PARTICIPANT_ACTION_FUNCTIONS: dict[str, str | frozenset[str]] = {**ACTION_FUNCTIONS}

T = SupportType
# The functions any one of which lets an agency deliver a support type (DOMAIN.md:
# health facilities give medical support, legal-aid centres legal aid, the Bank for
# Social Policies loans; social affairs and NGOs the rest): a participating provider,
# the lead that requests, approves or delivers it, and a provider the lead names.
SERVICE_FUNCTIONS: dict[SupportType, frozenset[str]] = {
    T.ESSENTIAL_NEEDS: frozenset({"support", "first_support"}),
    T.MEDICAL: frozenset({"medical_support", "support"}),
    T.INTERPRETATION: frozenset({"support"}),
    T.LEGAL_SUPPORT: frozenset({"support", "legal_aid"}),
    T.LEGAL_AID: frozenset({"legal_aid"}),
    T.TRAVEL: frozenset({"support", "first_support", "repatriate"}),
    T.PSYCHOLOGICAL: frozenset({"support", "counselling"}),
    T.SCHOOLING: frozenset({"support"}),
    T.VOCATIONAL: frozenset({"support"}),
    T.INITIAL_ALLOWANCE: frozenset({"support"}),
    T.LOAN: frozenset({"loans"}),
    T.HEALTH_INSURANCE: frozenset({"support", "medical_support"}),
}


@dataclass(frozen=True)
class Participation:
    """One accepted referral that makes the reader's agency a participant."""

    referral_id: str
    role: ParticipantRole
    services: frozenset[str]
    shared_fields: frozenset[str]


@dataclass(frozen=True)
class Refusal:
    """Why a principal who reaches the case may not take an action: a stable reason
    code for the audit row and a message naming what is missing."""

    reason: str
    message: str
    # The agency function that is missing, when that is the reason.
    function: str | None = None


def roles_allowing(action: str) -> list[str]:
    return sorted(role.value for role, actions in ROLE_ACTIONS.items() if action in actions)


def refusal(
    action: str,
    *,
    lead: bool,
    former_lead: bool,
    participations: Iterable[Participation],
    functions: Iterable[str],
    break_glass: bool = False,
) -> Refusal | None:
    """None when the grant allows `action`, else what is missing (module rules)."""
    functions = set(functions)
    if lead:
        return _function_refusal(ACTION_FUNCTIONS.get(action), functions)
    roles = {p.role for p in participations}
    if any(action in ROLE_ACTIONS[role] for role in roles):
        return _function_refusal(PARTICIPANT_ACTION_FUNCTIONS.get(action), functions)
    if former_lead and action in READS:
        return None
    if break_glass and action in BREAK_GLASS_READS:
        return None
    if break_glass and not former_lead and not roles:
        return Refusal(
            "break_glass_read_only",
            "A break-glass grant reads the case only: it allows no other action.",
        )
    if former_lead and not roles:
        return Refusal(
            "read_only_after_transfer",
            "Read only after transfer: the case now belongs to another agency.",
        )
    allowing = roles_allowing(action)
    if not allowing:
        return Refusal(
            "lead_only", msg("Only the lead agency of the case may do '{action}'.", action=action)
        )
    return Refusal(
        "missing_role:" + ":".join(allowing),
        msg(
            "Your agency takes part in this case as {roles}; '{action}' needs the role {allowing}.",
            roles=", ".join(sorted(roles)),
            action=action,
            allowing=", ".join(allowing),
        ),
    )


def _function_refusal(needed: str | frozenset[str] | None, functions: set[str]) -> Refusal | None:
    """None when `functions` hold the one needed (or one of a set), else the refusal
    naming them."""
    if needed is None:
        return None
    able = frozenset({needed}) if isinstance(needed, str) else needed
    if able & functions:
        return None
    return _missing_function(*sorted(able))


def _missing_function(*functions: str) -> Refusal:
    """Any one of `functions` would do (the audit code lists them, `:`-separated)."""
    named = " or ".join(functions)
    message = (
        msg("This needs an agency with the '{function}' function.", function=functions[0])
        if len(functions) == 1
        else msg(
            "This needs an agency with one of the functions {functions}.",
            functions=", ".join(f"'{f}'" for f in functions),
        )
    )
    return Refusal("missing_function:" + ":".join(functions), message, function=named)


def service_refusal(
    service_type: str, participations: Iterable[Participation], functions: Iterable[str]
) -> Refusal | None:
    """For a participant: None when one of its referrals names `service_type` and its
    agency kind may deliver it, else what is missing."""
    if not any(service_type in p.services for p in participations):
        return Refusal(
            "service_not_referred",
            msg("No referral to your agency names the service '{service}'.", service=service_type),
        )
    return service_function_refusal(service_type, functions)


def service_function_refusal(service_type: str, functions: Iterable[str]) -> Refusal | None:
    """None when an agency with `functions` may deliver `service_type`
    (`SERVICE_FUNCTIONS`), else the missing function."""
    return _function_refusal(SERVICE_FUNCTIONS[SupportType(service_type)], set(functions))
