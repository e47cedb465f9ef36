"""What the policy engine answers about an action: commit, ask the operator, or deny."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMMIT = "commit"
ASK = "ask"
DENY = "deny"
SEVERITY = {COMMIT: 0, ASK: 1, DENY: 2}


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str
    policy: str  # a one-line label of what decided (kept for the timeline and older readers)
    policies: list[dict[str, Any]] = field(default_factory=list)
    floors: list[str] = field(default_factory=list)
