"""Deciding an action: of the approval policies that match it the strictest wins, then hard floors hold.

One explicit exception to "strictest wins" (ADR 0015): a narrow commit policy (one outward kind, one agent,
work started by mail, known recipients, amounts capped) that names untrusted-input ask policies in
`prevails_over` sets those aside for the actions it matches. It outranks nothing else: not a deny, not
another ask (an unsure agent, an amount threshold), and never a hard floor.
"""

from __future__ import annotations

from typing import Any

from ledger import commit
from ledger.commit import EXTERNAL, INTERNAL
from ledger.models import Action, Policy, Task
from ledger.policy.facts import Facts, action_facts, operator_addresses
from ledger.policy.floors import FLOOR_MONEY, FLOOR_PERSONAL, FLOOR_TEXT, floors_for
from ledger.policy.params import ApprovalParams, precedence_not_narrow
from ledger.policy.store import policies_enabled
from ledger.policy.verdict import ASK, COMMIT, DENY, SEVERITY, Verdict


def _builtin(name: str) -> dict[str, Any]:
    return {"id": None, "name": f"builtin:{name}", "version": None, "kind": "builtin"}


def _amount_holds(params: ApprovalParams, facts: Facts) -> bool:
    if params.amount_over is None and params.amount_up_to is None:
        return True
    if facts.amount is None or (params.currency and facts.currency != params.currency):
        return False
    over_ok = params.amount_over is None or facts.amount > params.amount_over
    up_to_ok = params.amount_up_to is None or facts.amount <= params.amount_up_to
    return over_ok and up_to_ok


def _matches(params: ApprovalParams, facts: Facts) -> bool:
    """Every condition that is set holds. A condition on a fact the action lacks (no amount, no
    confidence, no client) does not hold: such an action falls to other policies or to asking."""
    checks = (
        not params.action_kinds or facts.kind in params.action_kinds,
        not params.effects or facts.effect in params.effects,
        not params.agents or facts.agent in params.agents,
        _amount_holds(params, facts),
        params.new_recipient is None
        or (bool(facts.recipients) and bool(facts.new_recipients) == params.new_recipient),
        params.confidence_below is None
        or (facts.confidence is not None and facts.confidence < params.confidence_below),
        not params.client_statuses or facts.client_status in params.client_statuses,
        params.untrusted_source is None or facts.untrusted == params.untrusted_source,
        params.without_amount is None or (facts.amount is None) == params.without_amount,
    )
    return all(checks)


def conditions_failing(params: ApprovalParams, facts: Facts) -> list[str]:
    """The conditions of `params` that `facts` do not meet, in the operator's words (empty: it matches)."""
    failing = []
    if params.action_kinds and facts.kind not in params.action_kinds:
        failing.append(f"its kind is {facts.kind}, not {', '.join(params.action_kinds)}")
    if params.effects and facts.effect not in params.effects:
        failing.append(f"its effect is {facts.effect}, not {', '.join(params.effects)}")
    if params.agents and facts.agent not in params.agents:
        failing.append(f"it was proposed by {facts.agent or 'no agent'}, not {', '.join(params.agents)}")
    if not _amount_holds(params, facts):
        if facts.amount is None:
            failing.append("it carries no amount to compare with the cap")
        elif params.currency and facts.currency != params.currency:
            failing.append(f"its amount is in {facts.currency}, not {params.currency}")
        else:
            failing.append(f"its amount {facts.amount} {facts.currency} is outside the range")
    if params.new_recipient is not None:
        if not facts.recipients:
            failing.append("it has no recipients")
        elif bool(facts.new_recipients) != params.new_recipient:
            failing.append(
                f"never written to: {', '.join(facts.new_recipients)}"
                if facts.new_recipients
                else "every recipient was written to before"
            )
    if params.confidence_below is not None and not (
        facts.confidence is not None and facts.confidence < params.confidence_below
    ):
        failing.append("the agent's confidence is not below the threshold")
    if params.client_statuses and facts.client_status not in params.client_statuses:
        failing.append(f"the client is {facts.client_status or 'unknown'}")
    if params.untrusted_source is not None and facts.untrusted != params.untrusted_source:
        failing.append("it was not started by mail" if params.untrusted_source else "it was started by mail")
    if params.without_amount is not None and (facts.amount is None) != params.without_amount:
        failing.append(
            f"it carries an amount ({facts.amount} {facts.currency})"
            if facts.amount is not None
            else "it carries no amount"
        )
    return failing


def _outranked(matching: list[tuple[Policy, ApprovalParams]]) -> set[int]:
    """The ids of the matching untrusted-input ask policies that a matching narrow commit policy sets aside.

    Re-checked at every decision: a row written past the editor that is not narrow, or names a policy that
    is not an untrusted-input ask, outranks nothing."""
    aside: set[int] = set()
    asking = {policy.pk for policy, params in matching if params.effect == ASK and params.untrusted_source}
    for _policy, params in matching:
        if params.effect != COMMIT or not params.prevails_over or precedence_not_narrow(params):
            continue
        aside |= set(params.prevails_over) & asking
    return aside


def action_decide(
    *, action: Action, task: Task, policies: list[Policy] | None = None, facts: Facts | None = None
) -> Verdict:
    """Commit, ask or deny, with the reason and the policy versions that decided.

    `policies` replaces the enabled approval policies (the editor's preview decides with a draft).
    """
    if not commit.committer_exists(action.kind):
        return Verdict(
            DENY,
            f"No committer knows how to carry out {action.kind!r}.",
            "builtin:known-kinds",
            [_builtin("known-kinds")],
        )
    if commit.committer_effect(action.kind) == INTERNAL:
        return Verdict(
            COMMIT,
            f"{action.kind} only changes the workspace's own bookkeeping: nothing leaves, no money moves.",
            "builtin:internal-memory",
            [_builtin("internal-memory")],
        )
    facts = facts or action_facts(action=action, task=task)
    operator_only = facts.recipients and set(facts.recipients) <= operator_addresses()
    if facts.effect == EXTERNAL and operator_only and not facts.untrusted:
        return Verdict(
            COMMIT,
            "An email to the operator's own address reaches nobody outside.",
            "builtin:operator-notice",
            [_builtin("operator-notice")],
        )
    floors = floors_for(facts)
    floor_text = "; ".join(FLOOR_TEXT[floor] for floor in floors)
    if policies is None:
        policies = policies_enabled(Policy.Kind.APPROVAL)
    matched = []
    for policy in policies:
        params = ApprovalParams.model_validate(policy.params)
        if _matches(params, facts):
            matched.append((policy, params))
    aside = _outranked(matched)
    matching = [(policy, params.effect) for policy, params in matched if policy.pk not in aside]
    if facts.operator_request:
        decision, reason = COMMIT, "The operator asked for this in person (task page)."
        deciders = [_builtin("operator-request")]
        deny = [policy for policy, effect in matching if effect == DENY]
        if deny:
            decision, reason, deciders = DENY, f"Denied by policy {deny[0].name!r}.", [deny[0].ref]
    elif not matching:
        decision, reason = ASK, f"No policy lets {action.kind} commit without the operator."
        deciders = [_builtin("default-ask")]
    else:
        strictest = max(SEVERITY[effect] for _, effect in matching)
        decision = next(effect for _, effect in matching if SEVERITY[effect] == strictest)
        chosen = [policy for policy, effect in matching if effect == decision]
        deciders = [policy.ref for policy in chosen]
        names = ", ".join(repr(policy.name) for policy in chosen)
        reason = {
            COMMIT: f"Allowed by policy {names}.",
            ASK: f"Policy {names} asks the operator.",
            DENY: f"Denied by policy {names}.",
        }[decision]
        if decision == COMMIT and aside:
            outranked = ", ".join(repr(policy.name) for policy, _ in matched if policy.pk in aside)
            reason = (
                f"{reason} It takes precedence over {outranked} for this narrow case "
                f"(this kind, this agent, known recipients, capped amount)."
            )
    if decision == COMMIT and floors and not facts.operator_request:
        decision = ASK
        reason = f"{reason} Hard floor: {floor_text}."
        deciders = [*deciders, *(_builtin(f"floor-{floor}") for floor in floors)]
    elif decision == COMMIT and facts.operator_request and ({FLOOR_MONEY, FLOOR_PERSONAL} & set(floors)):
        # Asking in person is not enough for money or a client's personal data: the operator confirms the
        # effect itself, as shown on the approval page.
        held = [floor for floor in (FLOOR_MONEY, FLOOR_PERSONAL) if floor in floors]
        decision, reason = ASK, "Hard floor: " + "; ".join(FLOOR_TEXT[floor] for floor in held) + "."
        deciders = [_builtin(f"floor-{floor}") for floor in held]
    elif decision == ASK and floors:
        reason = f"{reason} Hard floor: {floor_text}."
    label = ", ".join(ref["name"] + (f" v{ref['version']}" if ref["version"] else "") for ref in deciders)
    return Verdict(decision, reason, label, deciders, floors)
