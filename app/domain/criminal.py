"""Criminal proceedings a victim's case belongs to (tố giác, tin báo về tội phạm →
khởi tố → truy tố → xét xử): their stages and outcomes, pure data and pure rules.

Rules:
- Stages, in order: `reported` (a crime report or denunciation), `investigating` (a
  criminal case opened and under investigation), `prosecuted` (indicted),
  `tried` (judged at first instance), `closed`. A stage moves forward only; stages
  may be skipped (a proceeding is often recorded late), and the same stage may be
  restated to give the verdict. `closed` is final.
- Outcomes: `convicted`, `acquitted` (a trial's verdict), `dismissed` (dropped without
  trial: no case opened, investigation or prosecution discontinued), `suspended`
  (suspended; should the proceedings resume, they are recorded anew). An outcome is
  given only at `tried` (a verdict, or none while it is awaited) and is required at
  `closed`.
- Reached stages are stamped by the server clock when recorded, never by a date the
  caller gives (a return already sent cannot be changed by back-dating):
  - resolved (a report of crime resolved, for the returns): the first time the
    proceedings move past `investigating`: to `prosecuted` or `tried`, or to `closed`
    with any outcome but `suspended`;
  - tried (a case brought to trial): reaching `tried`, or `closed` with a trial's
    verdict (recorded after the fact).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.i18n import msg


class ProceedingStage(StrEnum):
    REPORTED = "reported"
    INVESTIGATING = "investigating"
    PROSECUTED = "prosecuted"
    TRIED = "tried"
    CLOSED = "closed"


class ProceedingOutcome(StrEnum):
    CONVICTED = "convicted"
    ACQUITTED = "acquitted"
    DISMISSED = "dismissed"
    SUSPENDED = "suspended"


S, Out = ProceedingStage, ProceedingOutcome
ORDER: tuple[ProceedingStage, ...] = tuple(ProceedingStage)
VERDICTS = frozenset({Out.CONVICTED, Out.ACQUITTED})
# The outcomes each stage takes (None: no outcome).
OUTCOMES: dict[ProceedingStage, frozenset[ProceedingOutcome | None]] = {
    S.REPORTED: frozenset({None}),
    S.INVESTIGATING: frozenset({None}),
    S.PROSECUTED: frozenset({None}),
    S.TRIED: frozenset({None, *VERDICTS}),
    S.CLOSED: frozenset(ProceedingOutcome),
}
# The agency functions, any one of which lets an agency record criminal proceedings
# and be named their investigating agency: police investigate; the border guard and
# coast guard are bodies assigned some investigative activities.
INVESTIGATING_FUNCTIONS = frozenset({"investigate", "investigate_border"})


@dataclass(frozen=True)
class StageError:
    """Why a change is refused: `backwards`/`closed` are conflicts with the current
    state (409), `outcome` an invalid body (422)."""

    kind: str
    message: str


def check_outcome(stage: ProceedingStage, outcome: ProceedingOutcome | None) -> StageError | None:
    if outcome in OUTCOMES[stage]:
        return None
    if stage is S.CLOSED:
        return StageError("outcome", "closed proceedings have an outcome")
    if stage is S.TRIED:
        return StageError("outcome", "a trial's outcome is 'convicted' or 'acquitted'")
    return StageError("outcome", msg("no outcome at stage '{stage}'", stage=stage.value))


def check_move(current: ProceedingStage, new: ProceedingStage) -> StageError | None:
    """None when the stage may move from `current` to `new` (module rules)."""
    if current is S.CLOSED:
        return StageError("closed", "closed proceedings are final")
    if ORDER.index(new) < ORDER.index(current):
        return StageError(
            "backwards", msg("the stage moves forward only (now '{stage}')", stage=current.value)
        )
    return None


@dataclass(frozen=True)
class Stamps:
    resolved_at: datetime | None
    tried_at: datetime | None


def stamps(
    stage: ProceedingStage, outcome: ProceedingOutcome | None, before: Stamps, now: datetime
) -> Stamps:
    """The resolved / tried stamps after reaching `stage` with `outcome` (module
    rules); a stamp once set is kept."""
    resolves = stage in (S.PROSECUTED, S.TRIED) or (
        stage is S.CLOSED and outcome is not Out.SUSPENDED
    )
    tried = stage is S.TRIED or (stage is S.CLOSED and outcome in VERDICTS)
    return Stamps(
        resolved_at=before.resolved_at or (now if resolves else None),
        tried_at=before.tried_at or (now if tried else None),
    )
