"""The agent contract: what an agent is, what it gets (its context) and what it returns.

An agent is small and side-effect free: it gets a context (the LLM port and the memory port, bound to
the running task by the ledger) and a validated input, and returns its output plus the actions it
proposes. Only the ledger's commit step turns proposals into effects. A workflow is a named sequence of
steps declared in code; each step calls one agent with an input built from the workflow input and the
earlier steps' outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin, get_type_hints

from pydantic import BaseModel, Field

from agents.kernel.errors import NeedsReview
from agents.kernel.ports import LLM, Memory, Scope


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


OutputT = TypeVar("OutputT", bound=BaseModel)


@dataclass
class AgentResult(Generic[OutputT]):
    """What a step returns. An agent's `run` says which output model in its return annotation
    (`-> AgentResult[Estimate]`), which is where the kernel reads the agent's `Output` from."""

    output: OutputT
    actions: list[ProposedAction] = field(default_factory=list)


@dataclass
class AgentContext:
    """What an agent may use. It has no database writer and no network client besides `llm`."""

    task_id: str
    workflow: str
    step: str
    attempt: int
    mode: str
    llm: LLM  # the ledger's LLM gateway, bound to this task and step
    memory: Memory | None = None  # recall and embeddings, recorded against this task and step
    # Whose records this work may read (core.scope.ClientScope, built by the ledger from the task's
    # trigger): the only way an agent reads invoices, proposals or the mail it answers. None: no records.
    scope: Scope | None = None

    def client_scope(self, agent: str) -> Scope:
        """The scope of work started by a message, which `agent` (named as in a sentence) needs to run."""
        if self.scope is None:
            raise NeedsReview(f"{agent} runs only in work started by a message (no client scope).")
        return self.scope

    def scope_of_client(self, client_id: int, work: str) -> Scope:
        """The scope of work for one client (`client_id`), which `work` (named as in a sentence) is done in:
        anything else — no scope, another client's — is for the operator to look at."""
        if self.scope is None or self.scope.client_id != client_id:
            raise NeedsReview(f"{work} in the scope of its own client only.")
        return self.scope


class Agent:
    name: ClassVar[str]
    version: ClassVar[str]
    # The models of `run`'s input and output, read from its annotations when the class is declared
    # (`def run(self, ctx, input: EstimateInput) -> AgentResult[Estimate]`), so each is stated once.
    # The ledger validates step input with `Input`; workflows and the back office read both.
    Input: ClassVar[type[BaseModel]]
    Output: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:  # a subclass that keeps its parent's run keeps its parent's models
            cls.Input, cls.Output = _run_models(cls)

    def run(self, ctx: AgentContext, input: BaseModel) -> AgentResult:  # noqa: A002 - the contract's name
        raise NotImplementedError


def _run_models(agent: type[Agent]) -> tuple[type[BaseModel], type[BaseModel]]:
    """(Input, Output) of `agent`, from its run's annotations; a wrong or missing one fails the import."""
    hints = get_type_hints(agent.run)
    input_model = hints.get("input")
    if not _is_model(input_model):
        raise TypeError(f"{agent.__qualname__}.run: annotate `input` with the pydantic model it takes")
    returned = hints.get("return")
    output_model = get_args(returned)[0] if get_origin(returned) is AgentResult else None
    if not _is_model(output_model):
        raise TypeError(f"{agent.__qualname__}.run: annotate its return as AgentResult[<its output model>]")
    for attribute in ("Input", "Output"):
        # Stated once, in run's signature: a second statement could only disagree with it.
        if attribute in agent.__dict__:
            raise TypeError(
                f"{agent.__qualname__}.{attribute}: the model is read from run's annotations only"
            )
    return input_model, output_model


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


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
    # The input key holding the inbound message (core.Message pk) the work answers: the ledger builds the
    # steps' client scope from that message's sender. Empty: the work is for no client's records.
    scope_message_key: str = ""
    # Or the input key holding the client (core.Client pk) the operator started the work for; never taken
    # from work a connector started (untrusted input does not get to name a client).
    scope_client_key: str = ""
