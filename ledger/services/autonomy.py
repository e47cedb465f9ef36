"""Autonomy suggestions (DESIGN §7, ADR 0007, 0015): the workspace proposes loosening, the operator decides.

After N approvals in a row without edits of one agent's action kind (N from an autonomy policy), one open
suggestion is made, carrying the exact approval policy accepting it would create:

- for work the operator started or the system scheduled: a commit policy for that kind and agent;
- for work started by mail (the approvals were asked by an untrusted-input caution such as the default
  *Ask before untrusted input leads outside or to money*): a **narrow** commit policy — that kind, that
  agent, only mail-started work, only recipients already written to, and either no amount or amounts up to
  a cap — that names the caution in `prevails_over`, the one explicit exception to "strictest wins".

Accepting creates the policy through `policy_save` by the operator (versioned, in its history);
revoking disables it again (policies are disabled, never deleted, so decisions keep naming them).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import clock
from ledger import commit, policy
from ledger.models import Action, ApprovalRequest, AutonomySuggestion, Policy

CENTS = Decimal("0.01")


def approval_run(*, agent: str, kind: str, limit: int) -> list[ApprovalRequest]:
    """The newest of this agent's `kind` requests approved without edits in a row (newest first, ≤ limit)."""
    decided = (
        ApprovalRequest.objects.filter(
            action__agent=agent,
            action__kind=kind,
            status__in=[ApprovalRequest.Status.APPROVED, ApprovalRequest.Status.REJECTED],
        )
        .select_related("action")
        .order_by("-decided_at", "-pk")[:limit]
    )
    run = []
    for approval in decided:
        if approval.status != ApprovalRequest.Status.APPROVED or approval.edited:
            break
        run.append(approval)
    return run


def approval_streak(*, agent: str, kind: str, limit: int) -> int:
    """How many of this agent's `kind` requests in a row (newest first) were approved without edits."""
    return len(approval_run(agent=agent, kind=kind, limit=limit))


def _cautions_that_asked(run: list[ApprovalRequest]) -> list[Policy]:
    """The untrusted-input ask policies (as they are now) that asked for any approval of the run."""
    asked = {ref.get("id") for approval in run for ref in approval.policies if ref.get("kind") == "approval"}
    return [caution for caution in policy.untrusted_cautions() if caution.pk in asked]


def _amount_conditions(run: list[ApprovalRequest], cap: Decimal | None) -> dict[str, Any]:
    """No amount in the run: only actions without one. Otherwise: up to the largest approved amount in the
    newest action's currency, lowered to the autonomy policy's cap when it sets one."""
    priced = [approval.action for approval in run if approval.action.amount is not None]
    if not priced:
        return {"without_amount": True}
    currency = priced[0].currency
    largest = max(action.amount for action in priced if action.currency == currency)
    if cap is not None:
        largest = min(largest, cap)
    # Written like the actions' own amounts (two places), so the diff reads "250.00 EUR".
    return {"amount_up_to": str(largest.quantize(CENTS)), "currency": currency}


def suggested_params(
    *, agent: str, kind: str, run: list[ApprovalRequest], amount_cap: Decimal | None = None
) -> dict[str, Any]:
    """The approval policy a suggestion based on `run` proposes (validated, as it would be stored)."""
    params: dict[str, Any] = {"effect": policy.COMMIT, "action_kinds": [kind], "agents": [agent]}
    cautions = _cautions_that_asked(run)
    if cautions and commit.committer_effect(kind) == policy.EXTERNAL:
        params.update(
            untrusted_source=True,
            new_recipient=False,
            prevails_over=[caution.pk for caution in cautions],
            **_amount_conditions(run, amount_cap),
        )
    return policy.policy_params_validate(kind=Policy.Kind.APPROVAL, params=params)


def _already_autonomous(agent: str, kind: str, narrow: bool) -> bool:
    """An enabled commit policy already lets this agent's kind through (for mail-started work: a narrow
    one that outranks the caution; a plain one would not)."""
    for existing in policy.policies_enabled(Policy.Kind.APPROVAL):
        params = existing.params
        if (
            params.get("effect") == policy.COMMIT
            and kind in params.get("action_kinds", [])
            and agent in params.get("agents", [])
            and (not narrow or params.get("prevails_over"))
        ):
            return True
    return False


def autonomy_watch(*, action: Action) -> AutonomySuggestion | None:
    """After an approval: propose loosening when an autonomy policy's N clean approvals are reached."""
    if not action.agent or commit.committer_effect(action.kind) in commit.FLOORED:
        return None
    for watcher in policy.policies_enabled(Policy.Kind.AUTONOMY):
        params = policy.AutonomyParams.model_validate(watcher.params)
        if params.action_kinds and action.kind not in params.action_kinds:
            continue
        if params.agents and action.agent not in params.agents:
            continue
        run = approval_run(agent=action.agent, kind=action.kind, limit=params.after)
        if len(run) < params.after:
            continue
        proposed = suggested_params(
            agent=action.agent, kind=action.kind, run=run, amount_cap=params.amount_cap
        )
        if _already_autonomous(action.agent, action.kind, bool(proposed.get("prevails_over"))):
            return None
        if AutonomySuggestion.objects.filter(
            agent=action.agent, action_kind=action.kind, status=AutonomySuggestion.Status.OPEN
        ).exists():
            return None
        try:
            with transaction.atomic():
                return AutonomySuggestion.objects.create(
                    agent=action.agent,
                    action_kind=action.kind,
                    streak=params.after,
                    autonomy_policy=watcher,
                    params=proposed,
                    approvals=[approval.pk for approval in run],
                )
        except IntegrityError:
            return None  # a concurrent approval made the same suggestion
    return None


def autonomy_policy_name(suggestion: AutonomySuggestion) -> str:
    if suggestion.params.get("prevails_over"):
        return (
            f"Auto-approve {suggestion.action_kind} from {suggestion.agent} "
            "(mail-started work, known recipients only)"
        )
    return f"Auto-approve {suggestion.action_kind} from {suggestion.agent}"


def _params_of(suggestion: AutonomySuggestion) -> dict[str, Any]:
    # Suggestions made before ADR 0015 carry no params: they proposed the plain kind-and-agent policy.
    return suggestion.params or {
        "effect": policy.COMMIT,
        "action_kinds": [suggestion.action_kind],
        "agents": [suggestion.agent],
    }


def autonomy_draft(*, suggestion: AutonomySuggestion) -> Policy:
    """The policy accepting `suggestion` would create, unsaved (for the preview)."""
    return Policy(
        name=autonomy_policy_name(suggestion),
        kind=Policy.Kind.APPROVAL,
        enabled=True,
        params=_params_of(suggestion),
    )


def autonomy_accept(*, suggestion: AutonomySuggestion, by: AbstractBaseUser) -> Policy:
    """Accept a suggestion: the approval policy it carries is created by the operator (hard floors hold)."""
    with transaction.atomic():
        locked = AutonomySuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != AutonomySuggestion.Status.OPEN:
            raise ValidationError({"status": f"This suggestion is already {locked.status}."})
        name = autonomy_policy_name(locked)
        if Policy.objects.filter(name=name).exists():
            name = f"{name} (#{locked.pk})"
        created = policy.policy_save(
            by=by,
            name=name,
            kind=Policy.Kind.APPROVAL,
            params=_params_of(locked),
            description=(
                f"Accepted from autonomy suggestion {locked.pk} after {locked.streak} approvals in a row "
                f"without edits (autonomy policy {locked.autonomy_policy.name!r} "
                f"v{locked.autonomy_policy.version})."
            ),
            reason=f"autonomy suggestion {locked.pk} accepted",
        )
        locked.status = AutonomySuggestion.Status.ACCEPTED
        locked.decided_by, locked.decided_at, locked.created_policy = by, clock.now(), created
        locked.save(update_fields=["status", "decided_by", "decided_at", "created_policy"])
    return created


def autonomy_dismiss(*, suggestion: AutonomySuggestion, by: AbstractBaseUser) -> AutonomySuggestion:
    with transaction.atomic():
        locked = AutonomySuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != AutonomySuggestion.Status.OPEN:
            raise ValidationError({"status": f"This suggestion is already {locked.status}."})
        locked.status = AutonomySuggestion.Status.DISMISSED
        locked.decided_by, locked.decided_at = by, clock.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


def autonomy_revoke(*, suggestion: AutonomySuggestion, by: AbstractBaseUser) -> Policy:
    """Take an accepted suggestion back: its policy is disabled (a new version in its history), so what it
    let through asks the operator again; the decisions it made keep naming it."""
    with transaction.atomic():
        locked = AutonomySuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != AutonomySuggestion.Status.ACCEPTED or locked.created_policy is None:
            raise ValidationError({"status": "Only an accepted suggestion can be revoked."})
        created = locked.created_policy
        disabled = policy.policy_save(
            policy=created,
            by=by,
            name=created.name,
            kind=created.kind,
            params=created.params,
            enabled=False,
            description=created.description,
            reason=f"autonomy suggestion {locked.pk} revoked",
        )
        locked.status = AutonomySuggestion.Status.REVOKED
        locked.decided_by, locked.decided_at = by, clock.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
    return disabled
