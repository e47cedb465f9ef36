"""The parameters of each policy kind (pydantic), validated with readable errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from agents import kernel
from core import currencies
from core.models import MemoryItem
from ledger import commit
from ledger.commit import EXTERNAL, FLOORED
from ledger.models import Policy
from ledger.policy.verdict import COMMIT


def _known_kinds(kinds: list[str]) -> list[str]:
    unknown = [kind for kind in kinds if not commit.committer_exists(kind)]
    if unknown:
        raise ValueError(f"unknown action kind(s): {', '.join(unknown)}")
    return sorted(set(kinds))


def _known_agents(names: list[str]) -> list[str]:
    known = {agent.name for agent in kernel.agents_all()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown agent(s): {', '.join(unknown)}")
    return sorted(set(names))


# Lists of action kinds and of agents, each checked against the registries and kept sorted, unique.
KnownKinds = Annotated[list[str], AfterValidator(_known_kinds)]
KnownAgents = Annotated[list[str], AfterValidator(_known_agents)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApprovalParams(_Params):
    effect: Literal["commit", "ask", "deny"] = Field(
        description="What happens to an action that meets every condition below."
    )
    action_kinds: KnownKinds = Field(default=[], description="Action kinds it applies to; empty: every kind.")
    effects: list[Literal["record", "money", "external", "delete"]] = Field(
        default=[], description="Effect classes it applies to; empty: every class."
    )
    agents: KnownAgents = Field(default=[], description="Proposing agents; empty: every agent.")
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
    without_amount: bool | None = Field(
        default=None, description="True: only actions that carry no amount; False: only those that do."
    )
    prevails_over: list[int] = Field(
        default=[],
        description="Untrusted-input ask policies this commit policy wins over, for the actions it matches "
        "only. Allowed only on a narrow policy: one external action kind, one agent, work started by mail, "
        "recipients already written to, and no amount or amounts up to a cap (ADR 0015).",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if value and not currencies.currency_is_valid(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @model_validator(mode="after")
    def _floors(self) -> ApprovalParams:
        if self.effect != COMMIT:
            return self
        floored = [kind for kind in self.action_kinds if commit.committer_effect(kind) in FLOORED]
        if floored or set(self.effects) & set(FLOORED):
            what = ", ".join(floored) or ", ".join(sorted(set(self.effects) & set(FLOORED)))
            raise ValueError(
                f"hard floor: {what} cannot commit without the operator (payments, money records, "
                "deletions and a client's personal data always need approval)"
            )
        if self.new_recipient is True:
            raise ValueError(
                "hard floor: sending to a recipient the workspace has never written to always needs "
                "the operator"
            )
        return self

    @field_validator("prevails_over")
    @classmethod
    def _prevails_over(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


def precedence_not_narrow(params: ApprovalParams) -> list[str]:
    """What keeps `params` from being narrow enough to win over the untrusted-input caution (empty: it is).

    Narrow means one outward action kind, one agent, only work started by mail, only recipients already
    written to, and either no amount or amounts up to a cap in one currency. Checked when a policy is saved
    and again by the engine at every decision, so a row written past the editor cannot widen it."""
    missing = []
    if params.effect != COMMIT:
        missing.append("its effect must be commit")
    if len(params.action_kinds) != 1 or commit.committer_effect(params.action_kinds[0]) != EXTERNAL:
        missing.append("it must name exactly one action kind, and that kind must send outside")
    if params.effects and params.effects != [EXTERNAL]:
        missing.append("its effect classes may only be external")
    if len(params.agents) != 1:
        missing.append("it must name exactly one agent")
    if params.untrusted_source is not True:
        missing.append("it must apply only to work started by inbound mail, files or webhooks")
    if params.new_recipient is not False:
        missing.append("it must apply only to recipients already written to")
    capped = params.amount_up_to is not None and bool(params.currency)
    if not capped and params.without_amount is not True:
        missing.append("it must cap amounts (amount up to, with a currency) or apply only without an amount")
    return missing


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
    action_kinds: KnownKinds = Field(default=[], description="Kinds it watches; empty: every kind.")
    agents: KnownAgents = Field(default=[], description="Agents it watches; empty: every agent.")
    amount_cap: Decimal | None = Field(
        default=None,
        gt=0,
        description="For work started by mail: the largest amount a suggested policy lets through; empty: "
        "the largest amount you approved in the run.",
    )


class ReminderLevelParams(_Params):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$", description="friendly, firm, final…")
    after_days: int = Field(ge=1, le=365, description="Days past the due date.")
    template: str = Field(default="payment_reminder", description="The action template of its text.")


class ReminderParams(_Params):
    levels: list[ReminderLevelParams] = Field(
        min_length=1,
        max_length=6,
        description="One line a level, earliest first: name, days past the due date, text template.",
    )
    min_gap_days: int = Field(default=3, ge=0, le=90, description="Days at least between two reminders.")
    working_days: list[int] = Field(
        default=[0, 1, 2, 3, 4], description="Days reminders are drafted on, 0 = Monday … 6 = Sunday."
    )
    working_hours: str = Field(
        default="09:00-17:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$",
        description="Hours (in the workspace's time zone) reminders are drafted in.",
    )

    @model_validator(mode="after")
    def _order(self) -> ReminderParams:
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError("each level needs its own name")
        days = [level.after_days for level in self.levels]
        if days != sorted(set(days)):
            raise ValueError("levels go from the earliest to the latest, each on its own day")
        if not set(self.working_days) <= set(range(7)) or not self.working_days:
            raise ValueError("working days are numbers from 0 (Monday) to 6 (Sunday)")
        start, end = self.working_hours.split("-")
        if start >= end:
            raise ValueError("working hours end after they start")
        return self


class DeliveryParams(_Params):
    retry_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="How long an email that cannot be delivered (mail server down, temporary refusal) is "
        "tried again before the workspace gives up on it and tells you.",
    )
    first_retry_seconds: int = Field(
        default=60, ge=1, le=3600, description="Wait before the second try; it doubles after every failure."
    )
    max_retry_seconds: int = Field(
        default=1800, ge=1, le=24 * 3600, description="The longest wait between two tries."
    )

    @model_validator(mode="after")
    def _order(self) -> DeliveryParams:
        if self.max_retry_seconds < self.first_retry_seconds:
            raise ValueError("the longest wait cannot be shorter than the first one")
        return self


PARAMS: dict[str, type[_Params]] = {
    Policy.Kind.APPROVAL: ApprovalParams,
    Policy.Kind.BUDGET: BudgetParams,
    Policy.Kind.RETENTION: RetentionParams,
    Policy.Kind.AUTONOMY: AutonomyParams,
    Policy.Kind.REMINDER: ReminderParams,
    Policy.Kind.DELIVERY: DeliveryParams,
}


def untrusted_cautions() -> list[Policy]:
    """The approval policies a narrow commit policy may win over: those that ask about untrusted input."""
    return [
        row
        for row in Policy.objects.filter(kind=Policy.Kind.APPROVAL).order_by("pk")
        if is_untrusted_caution(row.params)
    ]


def is_untrusted_caution(params: dict[str, Any]) -> bool:
    return params.get("effect") == "ask" and params.get("untrusted_source") is True


def policy_params_validate(*, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as stored (JSON), or a ValidationError naming each bad field in plain words."""
    if kind not in PARAMS:
        raise ValidationError({"kind": f"Unknown policy kind {kind!r}."})
    try:
        clean = PARAMS[kind].model_validate(params).model_dump(mode="json")
    except PydanticValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "params"
            message = error["msg"].removeprefix("Value error, ")
            errors.setdefault(where, []).append(message)
        raise ValidationError(errors) from None
    wanted = set(clean.get("prevails_over") or [])
    if kind == Policy.Kind.APPROVAL and wanted:
        # Checked here rather than in the model so that a row written past the editor does not break every
        # decision: the engine checks again and such a row simply outranks nothing.
        missing = precedence_not_narrow(ApprovalParams.model_validate(clean))
        if missing:
            raise ValidationError(
                {
                    "prevails_over": "a policy that wins over an untrusted-input policy must be narrow: "
                    + "; ".join(missing)
                }
            )
        # Only the untrusted-input caution can be outranked: never a deny, a floor or another ask.
        allowed = {row.pk for row in untrusted_cautions()}
        if wanted - allowed:
            raise ValidationError(
                {
                    "prevails_over": "only approval policies that ask about untrusted input can be outranked "
                    f"(not policy id(s) {', '.join(str(pk) for pk in sorted(wanted - allowed))})"
                }
            )
    return clean
