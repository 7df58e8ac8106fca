"""Break-glass: the rule data of an emergency read of a case outside the caller's
normal access (`app.services.break_glass` applies it).

- The agency function that allows it (agency kinds are data: police and the hotline
  have it), so an agency admin's staff of another kind holding the permission still
  cannot use it.
- What it grants: the case read (masked, or revealed with a purpose and the reveal
  permission) and nothing else: no write, no sub-record.
- The auditor's verdict on it.
"""

from __future__ import annotations

from enum import StrEnum

EMERGENCY_ACCESS = "emergency_access"

# The actions a break-glass grant allows (names as in `app.domain.participation`).
BREAK_GLASS_READS = frozenset({"case.read", "case.reveal"})


class Verdict(StrEnum):
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"
