"""A test-only agent and workflow that recall memory through the agent context, as product agents do."""

from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, Step, Workflow, agent_register, workflow_register

RECALL_WORKFLOW = "test.memory_recall"


class LookInput(BaseModel):
    query: str
    client: int


class LookOutput(BaseModel):
    items: list[int]
    texts: list[str]


@agent_register
class MemoryLooker(Agent):
    name = "test_memory_looker"
    version = "1"

    def run(self, ctx: AgentContext, input: LookInput) -> AgentResult[LookOutput]:  # noqa: A002
        # Bound to the client the workflow was started for (Workflow.scope_client_key).
        found = ctx.memory.recall(query=input.query, k=3)
        return AgentResult(
            output=LookOutput(items=[f["item"] for f in found], texts=[f["text"] for f in found])
        )


workflow_register(
    Workflow(
        name=RECALL_WORKFLOW,
        steps=(Step(name="look", agent=MemoryLooker.name),),
        input_schema=LookInput,
        scope_client_key="client",
    )
)
