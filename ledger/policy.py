"""The policy engine (DESIGN §7): what may happen without the operator, and what LLM work may cost.

Policies are rows (`ledger.models.Policy`, versioned with django-simple-history) of four kinds, each with
its own parameters, validated here with readable errors:

- `approval`: conditions on an action (kind, effect class, agent, amount over a threshold, recipient never
  written to before, agent confidence below a level, client status, untrusted source) and an effect:
  commit, ask the operator, or deny. Of the policies that match an action the strictest wins
  (deny > ask > commit); when none matches the operator is asked.
- `budget`: a monthly LLM spend cap, for the workspace or for one agent. Once reached, non-critical work
  is deferred (and the operator told); critical work drops to a cheaper tier or to `rules`.
- `retention`: how long memory of a tier (and kind) is kept. Canonical memory is never deleted.
- `autonomy`: after N approvals in a row without edits of one agent's action kind, the workspace
  proposes a commit policy for it; the operator accepts or dismisses the suggestion.

Hard floors hold whatever the policies say, and the editor refuses a policy that tries to lift them:
payments and any change to money records, sending to a recipient the workspace has never written to, and
deleting records always need the operator. A condition on a fact an action lacks (no amount, no
confidence) does not hold; what no policy matches waits for the operator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from ledger.models import Action, LLMCall, Policy, Task

COMMIT = "commit"
ASK = "ask"
DENY = "deny"
SEVERITY = {COMMIT: 0, ASK: 1, DENY: 2}

# Effect classes of action kinds (declared by their committers in ledger.commit).
INTERNAL = "internal"  # the workspace's own memory: no business record, nothing leaves
RECORD = "record"  # a canonical record changes
MONEY = "money"  # a money record changes (payments, marking paid, voids, refunds)
EXTERNAL = "external"  # something leaves the workspace (email, webhook call)
DELETE = "delete"  # a record is deleted
EFFECTS = (RECORD, MONEY, EXTERNAL, DELETE)

FLOOR_MONEY = "money"
FLOOR_NEW_RECIPIENT = "new_recipient"
FLOOR_DELETE = "delete"
FLOOR_TEXT = {
    FLOOR_MONEY: "payments and changes to money records always need the operator",
    FLOOR_NEW_RECIPIENT: "sending to a recipient the workspace has never written to needs the operator",
    FLOOR_DELETE: "deleting records always needs the operator",
}

# Workflows the operator starts in person from a page (reversal from the task page): the request is the
# consent, so their record changes commit without a second question (hard floors still apply).
OPERATOR_WORKFLOWS = frozenset({"record.revert"})


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str
    policy: str  # a one-line label of what decided (kept for the timeline and older readers)
    policies: list[dict[str, Any]] = field(default_factory=list)
    floors: list[str] = field(default_factory=list)


def _builtin(name: str) -> dict[str, Any]:
    return {"id": None, "name": f"builtin:{name}", "version": None, "kind": "builtin"}


# --- Parameters per kind ------------------------------------------------------------------------


def _known_kinds(kinds: list[str]) -> list[str]:
    from ledger import commit

    unknown = [kind for kind in kinds if not commit.committer_exists(kind)]
    if unknown:
        raise ValueError(f"unknown action kind(s): {', '.join(unknown)}")
    return sorted(set(kinds))


def _known_agents(names: list[str]) -> list[str]:
    from agents import kernel

    known = {agent.name for agent in kernel.agents_all()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown agent(s): {', '.join(unknown)}")
    return sorted(set(names))


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApprovalParams(_Params):
    effect: Literal["commit", "ask", "deny"] = Field(
        description="What happens to an action that meets every condition below."
    )
    action_kinds: list[str] = Field(default=[], description="Action kinds it applies to; empty: every kind.")
    effects: list[Literal["record", "money", "external", "delete"]] = Field(
        default=[], description="Effect classes it applies to; empty: every class."
    )
    agents: list[str] = Field(default=[], description="Proposing agents; empty: every agent.")
    amount_over: Decimal | None = Field(default=None, ge=0, description="Only actions worth more than this.")
    amount_up_to: Decimal | None = Field(default=None, ge=0, description="Only actions worth at most this.")
    currency: str = Field(default="", description="Currency of the amounts; empty: any currency.")
    new_recipient: bool | None = Field(
        default=None, description="True: only sends to someone never written to; False: only known ones."
    )
    confidence_below: float | None = Field(
        default=None, gt=0, le=1, description="Only actions whose agent's confidence is below this."
    )
    client_statuses: list[Literal["lead", "active", "past"]] = Field(
        default=[], description="Only actions about clients in these states."
    )
    untrusted_source: bool | None = Field(
        default=None, description="True: only work triggered by inbound mail, files or webhooks."
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        from core import currencies

        value = value.strip().upper()
        if value and not currencies.currency_is_valid(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @field_validator("action_kinds")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        return _known_kinds(kinds)

    @field_validator("agents")
    @classmethod
    def _agents(cls, names: list[str]) -> list[str]:
        return _known_agents(names)

    @model_validator(mode="after")
    def _floors(self) -> ApprovalParams:
        if self.effect != COMMIT:
            return self
        from ledger import commit

        floored = [kind for kind in self.action_kinds if commit.committer_effect(kind) in (MONEY, DELETE)]
        if floored or set(self.effects) & {MONEY, DELETE}:
            what = ", ".join(floored) or ", ".join(sorted(set(self.effects) & {MONEY, DELETE}))
            raise ValueError(
                f"hard floor: {what} cannot commit without the operator (payments, money records and "
                "deletions always need approval)"
            )
        if self.new_recipient is True:
            raise ValueError(
                "hard floor: sending to a recipient the workspace has never written to always needs "
                "the operator"
            )
        return self


class BudgetParams(_Params):
    scope: Literal["workspace", "agent"] = Field(
        description="workspace: all LLM spend this month; agent: one agent's spend this month."
    )
    agent: str = Field(default="", description="The agent whose spend is capped (scope agent).")
    monthly_cap: Decimal = Field(ge=0, max_digits=14, decimal_places=6, description="USD per month.")
    critical: Literal["cheaper", "rules"] = Field(
        default="rules",
        description="Critical work over the cap: 'cheaper' drops quality to fast (and fast to rules); "
        "'rules' runs the offline rules.",
    )

    @model_validator(mode="after")
    def _agent(self) -> BudgetParams:
        from agents import kernel

        if self.scope == "agent":
            if not self.agent:
                raise ValueError("name the agent whose spend is capped")
            if self.agent not in {agent.name for agent in kernel.agents_all()}:
                raise ValueError(f"unknown agent {self.agent!r}")
        elif self.agent:
            raise ValueError("a workspace budget names no agent")
        return self


class RetentionParams(_Params):
    tier: Literal["session", "working"] = Field(description="Canonical memory is never deleted.")
    kind: str = Field(default="", description="A memory kind; empty: every kind of the tier without a rule.")
    days: int = Field(ge=1, le=36500, description="Items older than this many days are deleted.")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        from core.models import MemoryItem

        if value and value not in MemoryItem.Kind.values:
            raise ValueError(f"unknown memory kind {value!r}; one of {', '.join(MemoryItem.Kind.values)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _canonical(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("tier") == "canonical":
            raise ValueError("canonical memory is never deleted by retention")
        return data


class AutonomyParams(_Params):
    after: int = Field(ge=2, le=1000, description="Approvals in a row without edits before suggesting.")
    action_kinds: list[str] = Field(default=[], description="Kinds it watches; empty: every kind.")
    agents: list[str] = Field(default=[], description="Agents it watches; empty: every agent.")

    @field_validator("action_kinds")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        return _known_kinds(kinds)

    @field_validator("agents")
    @classmethod
    def _agents(cls, names: list[str]) -> list[str]:
        return _known_agents(names)


PARAMS: dict[str, type[_Params]] = {
    Policy.Kind.APPROVAL: ApprovalParams,
    Policy.Kind.BUDGET: BudgetParams,
    Policy.Kind.RETENTION: RetentionParams,
    Policy.Kind.AUTONOMY: AutonomyParams,
}


def policy_params_validate(*, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as stored (JSON), or a ValidationError naming each bad field in plain words."""
    if kind not in PARAMS:
        raise ValidationError({"kind": f"Unknown policy kind {kind!r}."})
    try:
        return PARAMS[kind].model_validate(params).model_dump(mode="json")
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "params"
            message = error["msg"].removeprefix("Value error, ")
            errors.setdefault(where, []).append(message)
        raise ValidationError(errors) from None


def policy_save(
    *,
    policy: Policy | None = None,
    by: AbstractBaseUser | None,
    name: str,
    kind: str,
    params: dict[str, Any],
    enabled: bool = True,
    description: str = "",
    reason: str = "",
) -> Policy:
    """Create or change a policy: parameters validated per kind, version bumped, history row written."""
    clean = policy_params_validate(kind=kind, params=params)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A policy needs a name."})
    with transaction.atomic():
        if policy is None or policy.pk is None:
            policy = policy or Policy()
            policy.version = 1
        else:
            policy = Policy.objects.select_for_update().get(pk=policy.pk)
            if policy.kind != kind:
                raise ValidationError({"kind": "A policy keeps its kind; create a new one instead."})
            policy.version += 1
        clash = Policy.objects.filter(name=name).exclude(pk=policy.pk).exists()
        if clash:
            raise ValidationError({"name": f"Another policy is named {name!r}."})
        policy.name, policy.kind, policy.params = name, kind, clean
        policy.enabled, policy.description = enabled, description
        policy.updated_by = by
        policy._history_user = by
        if reason:
            policy._change_reason = reason[:100]
        policy.save()
    return policy


def policies_enabled(kind: str) -> list[Policy]:
    return list(Policy.objects.filter(kind=kind, enabled=True).order_by("pk"))


# --- Facts about an action ------------------------------------------------------------------------


@dataclass
class Facts:
    kind: str
    effect: str
    agent: str
    amount: Decimal | None
    currency: str
    confidence: float | None
    recipients: list[str]
    new_recipients: list[str]
    client_status: str | None
    untrusted: bool
    workflow: str
    operator_request: bool


def _recipients(action: Action) -> list[str]:
    """Who an email-carrying action (email.send, proposal.send, …) writes to."""
    from ledger import commit

    if commit.committer_effect(action.kind) != EXTERNAL:
        return []
    payload = action.payload or {}
    addresses = [*payload.get("to", []), *payload.get("cc", [])]
    return sorted({str(address).strip().lower() for address in addresses if str(address).strip()})


def task_untrusted(task: Task) -> bool:
    """Work started by a connector (inbound mail, files, webhooks), directly or through parent tasks."""
    seen = 0
    current: Task | None = task
    while current is not None and seen < 20:
        if current.requested_by_kind == Task.Requester.CONNECTOR:
            return True
        current = current.parent
        seen += 1
    return False


def addresses_known(*, addresses: list[str]) -> set[str]:
    """Addresses the workspace has written to: outbound messages, emails its outbox sent, the operator."""
    from core import selectors as core_selectors
    from ledger.models import OutboxEmail

    wanted = {address.lower() for address in addresses}
    if not wanted:
        return set()
    known = core_selectors.addresses_written_to(addresses=sorted(wanted))
    known |= wanted & {settings.DEFAULT_FROM_EMAIL.lower()}
    sent = OutboxEmail.objects.filter(status=OutboxEmail.Status.SENT)
    known |= core_selectors.addresses_among_recipients(rows=sent, addresses=sorted(wanted - known))
    return known & wanted


def _operator_addresses() -> set[str]:
    from core import selectors as core_selectors

    workspace = core_selectors.workspace_get()
    return {workspace.operator_email.lower()} if workspace and workspace.operator_email else set()


def action_facts(*, action: Action, task: Task) -> Facts:
    from core import selectors as core_selectors
    from ledger import commit

    recipients = _recipients(action)
    known = addresses_known(addresses=recipients)
    client_id = (action.payload or {}).get("client_id")
    client_status = core_selectors.client_status_for(client_id=client_id, addresses=recipients)
    return Facts(
        kind=action.kind,
        effect=commit.committer_effect(action.kind) or RECORD,
        agent=action.agent,
        amount=action.amount,
        currency=action.currency,
        confidence=action.confidence,
        recipients=recipients,
        new_recipients=[address for address in recipients if address not in known],
        client_status=client_status,
        untrusted=task_untrusted(task) or bool((action.source or {}).get("untrusted")),
        workflow=task.workflow,
        operator_request=task.workflow in OPERATOR_WORKFLOWS
        and task.requested_by_kind == Task.Requester.USER
        and task.requested_by_user is not None
        and task.requested_by_user.is_staff,
    )


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
    )
    return all(checks)


def _floors(facts: Facts) -> list[str]:
    floors = []
    if facts.effect == MONEY:
        floors.append(FLOOR_MONEY)
    if facts.effect == DELETE:
        floors.append(FLOOR_DELETE)
    if facts.new_recipients:
        floors.append(FLOOR_NEW_RECIPIENT)
    return floors


def action_decide(
    *, action: Action, task: Task, policies: list[Policy] | None = None, facts: Facts | None = None
) -> Verdict:
    """Commit, ask or deny, with the reason and the policy versions that decided.

    `policies` replaces the enabled approval policies (the editor's preview decides with a draft).
    """
    from ledger import commit

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
            f"{action.kind} only writes the workspace's own memory.",
            "builtin:internal-memory",
            [_builtin("internal-memory")],
        )
    facts = facts or action_facts(action=action, task=task)
    operator_only = facts.recipients and set(facts.recipients) <= _operator_addresses()
    if facts.effect == EXTERNAL and operator_only and not facts.untrusted:
        return Verdict(
            COMMIT,
            "An email to the operator's own address reaches nobody outside.",
            "builtin:operator-notice",
            [_builtin("operator-notice")],
        )
    floors = _floors(facts)
    floor_text = "; ".join(FLOOR_TEXT[floor] for floor in floors)
    if policies is None:
        policies = policies_enabled(Policy.Kind.APPROVAL)
    matching = []
    for policy in policies:
        params = ApprovalParams.model_validate(policy.params)
        if _matches(params, facts):
            matching.append((policy, params.effect))
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
    if decision == COMMIT and floors and not facts.operator_request:
        decision = ASK
        reason = f"{reason} Hard floor: {floor_text}."
        deciders = [*deciders, *(_builtin(f"floor-{floor}") for floor in floors)]
    elif decision == COMMIT and facts.operator_request and FLOOR_MONEY in floors:
        decision, reason = ASK, f"Hard floor: {FLOOR_TEXT[FLOOR_MONEY]}."
        deciders = [_builtin("floor-money")]
    elif decision == ASK and floors:
        reason = f"{reason} Hard floor: {floor_text}."
    label = ", ".join(ref["name"] + (f" v{ref['version']}" if ref["version"] else "") for ref in deciders)
    return Verdict(decision, reason, label, deciders, floors)


# --- Budget -----------------------------------------------------------------------------------

OK = "ok"
DEFER = "defer"
DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class BudgetVerdict:
    state: str  # ok, defer, downgrade
    reason: str = ""
    tier: str | None = None  # downgrade: the tier to use instead ("fast" or "rules")
    policies: list[dict[str, Any]] = field(default_factory=list)


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or timezone.now(), ZoneInfo(settings.TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def llm_spend(*, since: dt.datetime, agent: str | None = None) -> Decimal:
    calls = LLMCall.objects.filter(created_at__gte=since)
    if agent is not None:
        calls = calls.filter(agent=agent)
    return calls.aggregate(total=Sum("cost"))["total"] or Decimal("0")


def budgets_reached(*, agent: str, now: dt.datetime | None = None) -> list[tuple[Policy, Decimal]]:
    """The enabled budget policies whose cap this month's spend has reached, with that spend."""
    since = month_start(now)
    reached = []
    totals: dict[str | None, Decimal] = {}
    for policy in policies_enabled(Policy.Kind.BUDGET):
        params = BudgetParams.model_validate(policy.params)
        who = params.agent if params.scope == "agent" else None
        if who is not None and who != agent:
            continue
        if who not in totals:
            totals[who] = llm_spend(since=since, agent=who)
        if totals[who] >= params.monthly_cap:
            reached.append((policy, totals[who]))
    return reached


def budget_check(*, agent: str, tier: str, critical: bool, now: dt.datetime | None = None) -> BudgetVerdict:
    """Before a request to a model: may it go ahead, must the work wait, or use a cheaper tier?"""
    reached = budgets_reached(agent=agent, now=now)
    if not reached:
        return BudgetVerdict(OK)
    refs = [policy.ref for policy, _ in reached]
    spent = "; ".join(
        f"{policy.name!r}: {total} of {policy.params['monthly_cap']} USD" for policy, total in reached
    )
    if not critical:
        return BudgetVerdict(DEFER, f"LLM budget reached ({spent}); non-critical work waits.", None, refs)
    cheapest = "rules"
    if all(BudgetParams.model_validate(policy.params).critical == "cheaper" for policy, _ in reached):
        cheapest = "fast" if tier == "quality" else "rules"
    return BudgetVerdict(
        DOWNGRADE, f"LLM budget reached ({spent}); critical work drops to {cheapest}.", cheapest, refs
    )


# --- Retention --------------------------------------------------------------------------------


def retention_rules_from_policies(
    policies: list[Policy] | None = None,
) -> dict[tuple[str, str | None], int]:
    """{(tier, kind or None): days} from the enabled retention policies; the shortest wins per key.

    `policies` replaces the enabled retention policies (the editor's preview passes a draft)."""
    rules: dict[tuple[str, str | None], int] = {}
    for policy in policies_enabled(Policy.Kind.RETENTION) if policies is None else policies:
        params = RetentionParams.model_validate(policy.params)
        key = (params.tier, params.kind or None)
        rules[key] = min(rules.get(key, params.days), params.days)
    return rules
