"""What a policy change would do, before it is saved (the policy editor's "Preview" button).

A selector: it reads and decides, it never writes. The draft is an unsaved `Policy` (its pk is the saved
policy's when it edits one, None when it is new); it replaces its saved version, or is added, in the set of
enabled policies of its kind, and the result is compared with the set as it is now:

- approval: recent decided actions and the pending queue are decided again under both sets; the rows whose
  decision differs are listed, and for a commit policy naming action kinds, the actions of those kinds it
  would still hold, each with why (a condition it does not meet, a hard floor, a stricter policy).
- budget: this month's spend of the scope against the new and the saved cap.
- retention: how many memory items the retention job would delete now, under both sets of rules.
- autonomy: the current clean approval streaks per agent and action kind against the new and saved N.
"""

from __future__ import annotations

from typing import Any

from core import clock
from core.memory import services as memory_services
from ledger import approvals, commit, policy
from ledger.models import Action, ApprovalRequest, AutonomySuggestion, OutboxEmail, Policy


def policy_preview(*, draft: Policy, limit: int = 100) -> dict[str, Any]:
    """{"kind", "summary": [plain sentences], …kind-specific figures} for a validated draft."""
    draft.params = policy.policy_params_validate(kind=draft.kind, params=draft.params)
    saved = Policy.objects.filter(pk=draft.pk).first() if draft.pk else None
    preview = {
        Policy.Kind.APPROVAL: _approval_preview,
        Policy.Kind.BUDGET: _budget_preview,
        Policy.Kind.RETENTION: _retention_preview,
        Policy.Kind.AUTONOMY: _autonomy_preview,
        Policy.Kind.DELIVERY: _delivery_preview,
    }[draft.kind](draft=draft, saved=saved, limit=limit)
    return {"kind": draft.kind, **preview}


def _with_draft(current: list[Policy], draft: Policy) -> list[Policy]:
    """The enabled policies as they would be once the draft is saved (a disabled draft drops out)."""
    others = [existing for existing in current if draft.pk is None or existing.pk != draft.pk]
    return [*others, draft] if draft.enabled else others


def _saved_or_none(saved: Policy | None) -> Policy | None:
    return saved if saved is not None and saved.enabled else None


# --- Approval -----------------------------------------------------------------------------------


def _actions_to_decide(limit: int) -> list[tuple[Action, bool]]:
    """(action, pending) for the pending queue and the newest `limit` other decided actions.

    Internal kinds (memory writes) are left out: every policy set commits them alike.
    """
    internal = [kind for kind in commit.committer_kinds() if commit.committer_effect(kind) == policy.INTERNAL]
    rows = Action.objects.exclude(kind__in=internal).select_related(
        "task", "task__requested_by_user", "task__parent"
    )
    pending_filter = {"status": Action.Status.PROPOSED, "approval__status": ApprovalRequest.Status.PENDING}
    pending = list(rows.filter(**pending_filter).order_by("-pk")[:limit])
    decided = list(rows.exclude(decision="").exclude(**pending_filter).order_by("-pk")[:limit])
    return [(action, True) for action in pending] + [(action, False) for action in decided]


def _approval_preview(*, draft: Policy, saved: Policy | None, limit: int) -> dict[str, Any]:
    current = policy.policies_enabled(Policy.Kind.APPROVAL)
    proposed = _with_draft(current, draft)
    changed = []
    held = []
    checked = {"pending": 0, "decided": 0}
    draft_params = policy.ApprovalParams.model_validate(draft.params)
    # A commit draft for named kinds also lists the actions of those kinds it would still leave to the
    # operator, each with why (a condition it does not meet, a floor, another policy).
    watches = draft.enabled and draft_params.effect == policy.COMMIT and bool(draft_params.action_kinds)
    for action, pending in _actions_to_decide(limit):
        checked["pending" if pending else "decided"] += 1
        # Facts (recipients known, client status, source) cost queries: computed once for both decisions.
        facts = (
            policy.action_facts(action=action, task=action.task)
            if commit.committer_exists(action.kind)
            else None
        )
        before = policy.action_decide(action=action, task=action.task, policies=current, facts=facts)
        after = policy.action_decide(action=action, task=action.task, policies=proposed, facts=facts)
        if (
            watches
            and facts is not None
            and action.kind in draft_params.action_kinds
            and after.decision != policy.COMMIT
        ):
            failing = policy.conditions_failing(draft_params, facts)
            reason = f"This policy does not apply: {'; '.join(failing)}." if failing else after.reason
            held.append(
                {
                    "action": action,
                    "task": action.task,
                    "pending": pending,
                    "decision": after.decision,
                    "reason": reason,
                }
            )
        if before.decision != after.decision:
            changed.append(
                {
                    "action": action,
                    "task": action.task,
                    "pending": pending,
                    "before": {"decision": before.decision, "reason": before.reason},
                    "after": {"decision": after.decision, "reason": after.reason},
                }
            )
    counts = {
        "checked": checked["pending"] + checked["decided"],
        "pending": checked["pending"],
        "decided": checked["decided"],
        "changed": len(changed),
        **{
            f"to_{decision}": sum(1 for row in changed if row["after"]["decision"] == decision)
            for decision in (policy.COMMIT, policy.ASK, policy.DENY)
        },
    }
    summary = [
        f"Decided again {counts['checked']} actions ({counts['pending']} waiting for you, "
        f"{counts['decided']} recent decided ones) with the enabled approval policies as they are and "
        "with this draft in place.",
        (
            f"{counts['changed']} would be decided differently: {counts['to_commit']} would commit, "
            f"{counts['to_ask']} would ask you, {counts['to_deny']} would be denied."
            if changed
            else "None would be decided differently."
        ),
    ]
    if watches:
        let_through = sum(1 for row in changed if row["after"]["decision"] == policy.COMMIT)
        summary.append(
            f"Of the checked {', '.join(draft_params.action_kinds)} actions, this draft would have let "
            f"{let_through} through without you and would still hold {len(held)} (each with its reason)."
        )
    if any(row["pending"] and row["after"]["decision"] != policy.ASK for row in changed):
        summary.append(
            "Requests already waiting stay in the queue until you decide them; the draft decides what is "
            "proposed after it is saved."
        )
    return {"summary": summary, "counts": counts, "changed": changed, "held": held}


# --- Budget ---------------------------------------------------------------------------------------


def _budget_scope(params: policy.BudgetParams) -> tuple[str | None, str]:
    agent = params.agent if params.scope == "agent" else None
    return agent, f"agent {agent}" if agent else "the workspace"


def _budget_preview(*, draft: Policy, saved: Policy | None, limit: int) -> dict[str, Any]:
    params = policy.BudgetParams.model_validate(draft.params)
    agent, scope = _budget_scope(params)
    since = policy.month_start()
    spent = policy.llm_spend(since=since, agent=agent)
    saved_params = (
        policy.BudgetParams.model_validate(saved.params) if _saved_or_none(saved) is not None else None
    )
    saved_cap = saved_params.monthly_cap if saved_params else None
    reached = draft.enabled and spent >= params.monthly_cap
    when_reached = "non-critical work waits and critical work " + (
        "drops to a cheaper tier" if params.critical == "cheaper" else "runs the offline rules"
    )
    summary = [f"LLM spend of {scope} this month: {spent:.2f} USD."]
    if not draft.enabled:
        summary.append("The policy is disabled: it caps nothing.")
    elif reached:
        summary.append(f"The cap of {params.monthly_cap:.2f} USD is reached now: {when_reached}.")
    else:
        summary.append(
            f"The cap of {params.monthly_cap:.2f} USD is not reached now "
            f"({params.monthly_cap - spent:.2f} USD left); once it is, {when_reached}."
        )
    if saved_params is not None:
        saved_agent, saved_scope = _budget_scope(saved_params)
        saved_spent = spent if saved_agent == agent else policy.llm_spend(since=since, agent=saved_agent)
        summary.append(
            f"The saved version caps {saved_scope} at {saved_cap:.2f} USD"
            + (" (reached now)." if saved_spent >= saved_cap else " (not reached now).")
        )
    return {
        "summary": summary,
        "scope": scope,
        "spent": spent,
        "cap": params.monthly_cap,
        "saved_cap": saved_cap,
        "reached": reached,
    }


# --- Retention ------------------------------------------------------------------------------------


def _rules_label(rules: dict[tuple[str, str | None], int]) -> str:
    return ", ".join(
        f"{tier}{'.' + kind if kind else ''} {days} days"
        for (tier, kind), days in sorted(rules.items(), key=str)
    )


def _retention_preview(*, draft: Policy, saved: Policy | None, limit: int) -> dict[str, Any]:
    now = clock.now()
    current = policy.policies_enabled(Policy.Kind.RETENTION)
    rules_now = policy.retention_rules_from_policies(current)
    rules_after = policy.retention_rules_from_policies(_with_draft(current, draft))
    due_now = memory_services.memory_retention_due(rules=rules_now, now=now).count()
    due_after = memory_services.memory_retention_due(rules=rules_after, now=now).count()
    summary = [
        f"The retention job would delete {due_after} memory items now with this draft, "
        f"{due_now} with the policies as they are.",
        f"Rules in force after saving: {_rules_label(rules_after) or 'none'}.",
    ]
    if due_after > due_now:
        summary.append(f"{due_after - due_now} more items would be deleted at the next run.")
    return {
        "summary": summary,
        "due_now": due_now,
        "due_after": due_after,
        "rules_now": _rules_label(rules_now),
        "rules_after": _rules_label(rules_after),
    }


# --- Autonomy -------------------------------------------------------------------------------------


def _autonomy_preview(*, draft: Policy, saved: Policy | None, limit: int) -> dict[str, Any]:
    params = policy.AutonomyParams.model_validate(draft.params)
    saved_after = _saved_or_none(saved) and policy.AutonomyParams.model_validate(saved.params).after
    # The pairs that have decided requests; money and deletions never earn autonomy (hard floors).
    pairs = (
        ApprovalRequest.objects.filter(
            status__in=[ApprovalRequest.Status.APPROVED, ApprovalRequest.Status.REJECTED]
        )
        .exclude(action__agent="")
        .values_list("action__agent", "action__kind")
        .distinct()
        .order_by("action__agent", "action__kind")
    )
    if params.agents:
        pairs = pairs.filter(action__agent__in=params.agents)
    if params.action_kinds:
        pairs = pairs.filter(action__kind__in=params.action_kinds)
    streaks = []
    for agent, kind in pairs[:limit]:
        if commit.committer_effect(kind) in commit.FLOORED:
            continue
        streak = approvals.approval_streak(agent=agent, kind=kind, limit=max(params.after, saved_after or 0))
        if streak:
            streaks.append(
                {
                    "agent": agent,
                    "kind": kind,
                    "streak": streak,
                    "meets": draft.enabled and streak >= params.after,
                    "meets_saved": bool(saved_after) and streak >= saved_after,
                }
            )
    meeting = [row for row in streaks if row["meets"]]
    summary = [
        f"{len(meeting)} agent/action kind pairs have {params.after} or more approvals in a row without "
        "edits now"
        + (
            f" ({sum(row['meets_saved'] for row in streaks)} meet the saved {saved_after})."
            if saved_after
            else "."
        ),
        "A suggestion is made at the next such approval of the pair; you accept or dismiss it.",
    ]
    if not draft.enabled:
        summary[0] = "The policy is disabled: it suggests nothing."
    return {"summary": summary, "after": params.after, "saved_after": saved_after, "streaks": streaks}


# --- Delivery -------------------------------------------------------------------------------------


def _delivery_preview(*, draft: Policy, saved: Policy | None, limit: int) -> dict[str, Any]:
    current = policy.policies_enabled(Policy.Kind.DELIVERY)
    rules_now, _ = policy.delivery_rules(current)
    rules_after, _ = policy.delivery_rules(_with_draft(current, draft))
    waiting = list(
        OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, first_failed_at__isnull=False).order_by(
            "first_failed_at"
        )[:limit]
    )
    now = clock.now()
    given_up_after = [
        email
        for email in waiting
        if policy.delivery_gives_up_at(rules=rules_after, first_failed_at=email.first_failed_at) <= now
    ]
    summary = [
        f"Undelivered mail is tried again for {rules_after.retry_hours} hours with this draft "
        f"({rules_now.retry_hours} hours now), first after {rules_after.first_retry_seconds} s, then at "
        f"most every {rules_after.max_retry_seconds} s.",
        f"{len(waiting)} emails are waiting for the mail server now.",
    ]
    if given_up_after:
        summary.append(f"{len(given_up_after)} of them would be given up at their next try.")
    return {
        "summary": summary,
        "waiting": len(waiting),
        "would_give_up": len(given_up_after),
        "retry_hours_now": rules_now.retry_hours,
        "retry_hours_after": rules_after.retry_hours,
    }


# --- Autonomy suggestions -------------------------------------------------------------------------


# The conditions an approval policy sets to yes or no (unset: either): (parameter, if yes, if no).
_YES_NO_CONDITIONS = (
    (
        "untrusted_source",
        "the work was started by inbound mail, files or webhooks",
        "the work was not started by inbound mail, files or webhooks",
    ),
    (
        "new_recipient",
        "a recipient was never written to",
        "every recipient is someone the workspace has already written to",
    ),
    ("without_amount", "it carries no amount", "it carries an amount"),
)


def approval_conditions_describe(params: policy.ApprovalParams) -> list[str]:
    """Each condition an approval policy sets, in the operator's words (nothing set: every action)."""
    lines = []
    if params.action_kinds:
        lines.append(f"the action kind is {' or '.join(params.action_kinds)}")
    if params.effects:
        lines.append(f"its effect class is {' or '.join(params.effects)}")
    if params.agents:
        lines.append(f"it was proposed by the agent {' or '.join(params.agents)}")
    for name, when_true, when_false in _YES_NO_CONDITIONS:
        value = getattr(params, name)
        if value is not None:
            lines.append(when_true if value else when_false)
    currency = f" {params.currency}" if params.currency else ""
    if params.amount_over is not None:
        lines.append(f"its amount is over {params.amount_over}{currency}")
    if params.amount_up_to is not None:
        lines.append(f"its amount is at most {params.amount_up_to}{currency}")
    if params.confidence_below is not None:
        lines.append(f"the agent's confidence is below {params.confidence_below}")
    if params.client_statuses:
        lines.append(f"the client is a {' or '.join(params.client_statuses)}")
    return lines or ["any action"]


def autonomy_suggestion_diff(*, suggestion: AutonomySuggestion) -> dict[str, Any]:
    """Exactly what accepting a suggestion changes: the policy it adds (conditions and effect), what decides
    such actions today, what it outranks, and what keeps asking. `lines` is the same as a text diff."""
    draft = approvals.autonomy_draft(suggestion=suggestion)
    params = policy.ApprovalParams.model_validate(draft.params)
    run = ApprovalRequest.objects.filter(pk__in=suggestion.approvals)
    asked_by = sorted(
        {
            ref["name"]
            for approval in run
            for ref in approval.policies
            if not ref["name"].startswith("builtin:floor")
        }
    )
    outranked = list(Policy.objects.filter(pk__in=params.prevails_over).order_by("pk"))
    conditions = approval_conditions_describe(params)
    outside = ["a new recipient", "another action kind", "another agent"]
    if params.prevails_over:
        outside.append("an amount over the cap" if params.amount_up_to is not None else "any amount")
    still_asks = [
        "hard floors: payments and changes to money records, deletions, a client's personal data, and any "
        "recipient never written to",
        f"the same kind of work outside these conditions ({', '.join(outside)})",
        "every other ask or deny policy that matches (e.g. an agent unsure of itself)",
    ]
    lines = [
        f"+ new approval policy {draft.name!r}",
        "  effect on the actions it matches: ask you -> commit without you",
        *(
            f"+ when {condition}" if n == 0 else f"+ and {condition}"
            for n, condition in enumerate(conditions)
        ),
        *(
            f"~ for these actions only, it takes precedence over {caution.name!r} v{caution.version}, "
            "which asks you today"
            for caution in outranked
        ),
        *(f"= still asks you: {line}" for line in still_asks),
    ]
    return {
        "name": draft.name,
        "params": draft.params,
        "before": {"decision": policy.ASK, "asked_by": asked_by},
        "after": {"decision": policy.COMMIT},
        "conditions": conditions,
        "outranks": [caution.ref for caution in outranked],
        "still_asks": still_asks,
        "lines": lines,
    }


def autonomy_suggestion_preview(*, suggestion: AutonomySuggestion, limit: int = 100) -> dict[str, Any]:
    """The policy editor's approval preview for the policy accepting `suggestion` would create."""
    return policy_preview(draft=approvals.autonomy_draft(suggestion=suggestion), limit=limit)
