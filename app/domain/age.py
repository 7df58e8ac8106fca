"""A person's age for the law's purposes: child (under 16, Law on Children), minor
(under 18: trafficking of a minor needs no proof of force or deception), and what the
flags rest on (`AgeBasis`).

Rules:
- A date of birth establishes the age (`date_of_birth`).
- Without one, a whole-year estimate (an official's, or the hotline caller's
  approximate age) gives the flags (`estimate`).
- With neither, the age is unknown and the person may be under 18: presumed a minor
  until the age is established (`presumed_minor`). A supervisor may keep the
  presumption over an estimate, or end it in favour of the estimate, with a reason.
- Whoever's age is not established by a date of birth and who is, or is presumed, a
  minor is treated as a child for consent: the legal representative takes part.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CHILD_AGE = 16  # Law on Children: under 16 is a child
MINOR_AGE = 18  # under 18 is a minor
OWN_CONSENT_AGE = 7  # from 7 the child's own consent is needed too
MAX_AGE = 120


class AgeBasis(StrEnum):
    DATE_OF_BIRTH = "date_of_birth"
    ESTIMATE = "estimate"
    PRESUMED_MINOR = "presumed_minor"


@dataclass(frozen=True)
class Age:
    basis: AgeBasis
    # Whole years: from the date of birth or the estimate; None when unknown.
    years: int | None
    is_child: bool
    is_minor: bool

    @property
    def established(self) -> bool:
        return self.basis is AgeBasis.DATE_OF_BIRTH


def assess(
    age_from_birth: int | None, estimate: int | None, *, keep_presumption: bool = False
) -> Age:
    """The age from what is known (module rules). `keep_presumption`: a supervisor
    kept the presumption of minority over the estimate (a date of birth still wins)."""
    if age_from_birth is not None:
        return _from_years(AgeBasis.DATE_OF_BIRTH, age_from_birth)
    if estimate is not None and not keep_presumption:
        return _from_years(AgeBasis.ESTIMATE, estimate)
    return Age(
        AgeBasis.PRESUMED_MINOR,
        estimate,
        is_child=estimate is not None and estimate < CHILD_AGE,
        is_minor=True,
    )


def _from_years(basis: AgeBasis, years: int) -> Age:
    return Age(basis, years, is_child=years < CHILD_AGE, is_minor=years < MINOR_AGE)
