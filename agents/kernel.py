"""The agent contract and the registry of agents and workflows.

An agent is small and side-effect free: it gets a context (the LLM gateway, later memory) and a
validated input, and returns its output plus the actions it proposes. Only the ledger's commit step
turns proposals into effects. A workflow is a named sequence of steps declared in code; each step
calls one agent with an input built from the workflow input and the earlier steps' outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, Field, ValidationError


class InferredField(BaseModel):
    """One value an agent inferred, with where it read it: shown to the operator as a field diff."""

    field: str
    value: Any = None
    source: str = ""  # the text the value was read from (e.g. the sentence of the email)
    span: tuple[int, int] | None = None  # [start, end) of `source` within the source record's text
    confidence: float | None = Field(default=None, ge=0, le=1)


class ProposedAction(BaseModel):
    """An effect an agent would like to happen: `kind` names the committer, `payload` its arguments.

    The rest is what the policy engine and the operator need to judge it: the agent's confidence, the
    money involved, the fields it inferred and the record it worked from (untrusted text is data).
    """

    kind: str
    payload: dict[str, Any] = {}
    summary: str = ""
    confidence: float | None = Field(default=None, ge=0, le=1)
    amount: Decimal | None = None
    currency: str = ""
    inferred: list[InferredField] = []
    source: dict[str, Any] = {}


@dataclass
class AgentResult:
    output: BaseModel
    actions: list[ProposedAction] = field(default_factory=list)


@dataclass
class AgentContext:
    """What an agent may use. It has no database writer and no network client besides `llm`."""

    task_id: str
    workflow: str
    step: str
    attempt: int
    mode: str
    llm: Any  # agents.llm.LLMGateway bound to this task and step
    memory: Any = None  # the memory issue plugs recall in here


class Agent:
    name: ClassVar[str]
    version: ClassVar[str]
    Input: ClassVar[type[BaseModel]]
    Output: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""

    def run(self, ctx: AgentContext, input: BaseModel) -> AgentResult:  # noqa: A002 - the contract's name
        raise NotImplementedError


# (workflow input, {earlier step name: its output as JSON data}) -> the agent's input data
StepInput = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Step:
    name: str
    agent: str
    # Builds the agent's input from the workflow input and the outputs of earlier steps (by step name).
    input: StepInput = staticmethod(lambda workflow_input, outputs: workflow_input)  # type: ignore[assignment]


@dataclass(frozen=True)
class Workflow:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    input_schema: type[BaseModel] | None = None
    # Retries before the task is dead-lettered; the conductor's default when None.
    max_attempts: int | None = None
    # Critical work keeps running when an LLM budget is reached (on a cheaper tier); the rest is deferred.
    critical: bool = False


class RegistryError(LookupError):
    pass


_AGENTS: dict[str, type[Agent]] = {}
_WORKFLOWS: dict[str, Workflow] = {}


def agent_register(agent: type[Agent]) -> type[Agent]:
    """Class decorator: make an agent available to workflows by its name."""
    for attribute in ("name", "version", "Input", "Output"):
        if not hasattr(agent, attribute):
            raise TypeError(f"{agent.__name__} must define {attribute}")
    existing = _AGENTS.get(agent.name)
    if existing is not None and existing is not agent:
        raise RegistryError(
            f"Two agents are named {agent.name!r}: {existing.__qualname__} and {agent.__qualname__}"
        )
    _AGENTS[agent.name] = agent
    return agent


def workflow_register(workflow: Workflow) -> Workflow:
    for step in workflow.steps:
        if step.agent not in _AGENTS:
            raise RegistryError(
                f"Workflow {workflow.name!r} step {step.name!r} uses unknown agent {step.agent!r}"
            )
    names = [step.name for step in workflow.steps]
    if len(set(names)) != len(names):
        raise RegistryError(f"Workflow {workflow.name!r} has two steps with one name")
    existing = _WORKFLOWS.get(workflow.name)
    if existing is not None and existing != workflow:
        raise RegistryError(f"Two workflows are named {workflow.name!r}")
    _WORKFLOWS[workflow.name] = workflow
    return workflow


def agent_get(name: str) -> type[Agent]:
    try:
        return _AGENTS[name]
    except KeyError:
        raise RegistryError(f"No agent named {name!r}") from None


def workflow_get(name: str) -> Workflow:
    try:
        return _WORKFLOWS[name]
    except KeyError:
        raise RegistryError(f"No workflow named {name!r}") from None


def agents_all() -> list[type[Agent]]:
    return sorted(_AGENTS.values(), key=lambda agent: agent.name)


def workflows_all() -> list[Workflow]:
    return sorted(_WORKFLOWS.values(), key=lambda workflow: workflow.name)


def workflow_input_validate(workflow: Workflow, data: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow input as JSON-ready data, validated against its schema when it has one."""
    if workflow.input_schema is None:
        return dict(data)
    try:
        return workflow.input_schema.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        from django.core.exceptions import ValidationError as DjangoValidationError

        raise DjangoValidationError(
            {
                "input." + ".".join(str(part) for part in error["loc"]): error["msg"]
                for error in exc.errors(include_url=False)
            }
        ) from None
