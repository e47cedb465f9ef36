"""The agent kernel: the contract, the registry, the errors and the ports of an agent's context.

It imports nothing else of the project (checked by import-linter), so every app may build on it.
"""

from agents.kernel.contract import (
    Agent,
    AgentContext,
    AgentResult,
    InferredField,
    ProposedAction,
    Step,
    StepInput,
    Workflow,
)
from agents.kernel.errors import BudgetDeferred, LLMUnavailable, NeedsReview
from agents.kernel.ports import LLM, Memory, Scope, StructuredResult
from agents.kernel.prompts import DATA_RULE, data_block, memory_blocks, with_data_rule
from agents.kernel.registry import (
    _AGENTS,
    _WORKFLOWS,
    RegistryError,
    agent_get,
    agent_register,
    agents_all,
    workflow_get,
    workflow_input_validate,
    workflow_one_step,
    workflow_register,
    workflows_all,
)

__all__ = [
    "DATA_RULE",
    "LLM",
    "_AGENTS",
    "_WORKFLOWS",
    "Agent",
    "AgentContext",
    "AgentResult",
    "BudgetDeferred",
    "InferredField",
    "LLMUnavailable",
    "Memory",
    "NeedsReview",
    "ProposedAction",
    "RegistryError",
    "Scope",
    "Step",
    "StepInput",
    "StructuredResult",
    "Workflow",
    "agent_get",
    "agent_register",
    "agents_all",
    "data_block",
    "memory_blocks",
    "workflow_get",
    "workflow_input_validate",
    "workflow_one_step",
    "workflow_register",
    "with_data_rule",
    "workflows_all",
]
