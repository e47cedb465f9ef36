"""The registry of agents and workflows, filled by the apps that declare them when they are ready."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.kernel.contract import Agent, Step, Workflow
from agents.kernel.errors import schema_data_validate


class RegistryError(LookupError):
    pass


_AGENTS: dict[str, type[Agent]] = {}
_WORKFLOWS: dict[str, Workflow] = {}


def agent_register(agent: type[Agent]) -> type[Agent]:
    """Class decorator: make an agent available to workflows by its name."""
    for attribute in ("name", "version"):  # Input and Output come from run's annotations (Agent)
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


def workflow_one_step(
    *, name: str, step: str, agent: type[Agent], description: str, **options: Any
) -> Workflow:
    """Register the common shape: one step, given the workflow input as it is, validated by the agent's Input.

    `step` names the step in the task's timeline, its LLM calls and recalls (replay matches by it)."""
    return workflow_register(
        Workflow(
            name=name,
            description=description,
            steps=(Step(name=step, agent=agent.name),),
            input_schema=agent.Input,
            **options,
        )
    )


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
    return schema_data_validate(workflow.input_schema, data, prefix="input.", root="input")
