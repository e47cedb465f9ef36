"""Which proposed actions may commit without the operator.

Until the policies issue brings editable, versioned Policy records, the rule is a setting:
`AIOS_AUTO_COMMIT_ACTIONS` lists the action kinds that commit on their own; every other kind waits for
the operator. Shadow tasks never commit anything real (the conductor records what they would do).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from ledger.models import Action, Task

COMMIT = "commit"
ASK = "ask"
DENY = "deny"


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str
    policy: str


# Writes to the workspace's own memory: they change no business record, send nothing and cost nothing,
# so waiting for the operator would only leave agents with a stale memory.
INTERNAL_KINDS = frozenset({"memory.store", "memory.compress", "memory.expire", "memory.retain"})


def action_decide(*, action: Action, task: Task) -> Verdict:
    from ledger import commit

    if not commit.committer_exists(action.kind):
        return Verdict(DENY, f"No committer knows how to carry out {action.kind!r}.", "builtin:known-kinds")
    if action.kind in INTERNAL_KINDS:
        return Verdict(
            COMMIT, f"{action.kind} only writes the workspace's own memory.", "builtin:internal-memory"
        )
    if action.kind in settings.AIOS_AUTO_COMMIT_ACTIONS:
        return Verdict(
            COMMIT, f"{action.kind} is in AIOS_AUTO_COMMIT_ACTIONS.", "setting:AIOS_AUTO_COMMIT_ACTIONS"
        )
    return Verdict(ASK, f"{action.kind} needs the operator's approval.", "setting:AIOS_AUTO_COMMIT_ACTIONS")
