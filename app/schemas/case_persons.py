"""API shapes of the persons of a case other than the victim: relatives, accompanying
minors, people who help and witnesses, added after intake (`POST /cases/{id}/persons`).

Their identity fields are the victim's (`IdentityInput`: same names, same checks, a
full name or a national ID required); sex and nationality may be unknown.
The answer is `CasePersonPublic` (masked unless revealed with a purpose)."""

from __future__ import annotations

from pydantic import Field, model_validator

from app.i18n import FieldErrors, msg
from app.models.person import Sex
from app.schemas.case import CasePersonKind, CasePersonPublic, CountryCode, IdentityInput

__all__ = ["CasePersonCreate", "CasePersonKind", "CasePersonPublic"]


class CasePersonCreate(IdentityInput):
    """A person added to a case. `relation` is a short relation word ("mother",
    "neighbour"), not an identity value: no digits. `age_estimate` is for a person whose
    date of birth is unknown."""

    kind: CasePersonKind
    relation: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^\D*$")
    sex: Sex = Sex.UNKNOWN
    nationality: CountryCode | None = None
    age_estimate: int | None = Field(
        default=None, ge=0, le=120, description="Whole years, when date_of_birth is unknown."
    )

    @model_validator(mode="after")
    def _age_and_relation(self) -> CasePersonCreate:
        # Both checks, reported together on their fields.
        problems: list[tuple[str, str]] = []
        if self.age_estimate is not None and self.date_of_birth is not None:
            problems.append(
                ("age_estimate", msg("give age_estimate only when date_of_birth is unknown"))
            )
        if self.kind is CasePersonKind.RELATIVE and not self.relation:
            problems.append(("relation", msg("a relative needs relation (e.g. mother, brother)")))
        if problems:
            raise FieldErrors(problems)
        return self
