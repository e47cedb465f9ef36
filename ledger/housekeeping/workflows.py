"""The ledger's own workflows, declared in code and registered when the ledger app is ready."""

from agents.kernel import workflow_one_step
from ledger.housekeeping import agents

DAILY_COST_REPORT = workflow_one_step(
    name="report.daily_cost",
    step="report",
    agent=agents.CostReporter,
    description="One day's LLM spend per agent and model (run each night by the schedule).",
)

MEMORY_MAINTAIN = workflow_one_step(
    name="memory.maintain",
    step="sweep",
    agent=agents.MemoryJanitor,
    description="Delete memories whose time is up: expired session items, and what retention says.",
)

APPROVALS_DIGEST = workflow_one_step(
    name="approvals.digest",
    step="digest",
    agent=agents.ApprovalDigest,
    description="Each day: what waits for the operator's approval and what was dead-lettered.",
    critical=True,
)

RECORD_REVERT = workflow_one_step(
    name="record.revert",
    step="revert",
    agent=agents.RecordReverter,
    description="Put records back as they were before a committed change (asked from the task page).",
    critical=True,
    max_attempts=1,
)
