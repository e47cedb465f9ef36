"""The ledger's own workflows, declared in code and registered when the ledger app is ready."""

from agents.kernel import Step, Workflow, workflow_register
from ledger.housekeeping import memory, operator, reports

DAILY_COST_REPORT = workflow_register(
    Workflow(
        name="report.daily_cost",
        description="One day's LLM spend per agent and model (run each night by the schedule).",
        steps=(Step(name="report", agent=reports.CostReporter.name),),
        input_schema=reports.CostReportInput,
    )
)

MEMORY_MAINTAIN = workflow_register(
    Workflow(
        name="memory.maintain",
        description="Delete memories whose time is up: expired session items, and what retention says.",
        steps=(Step(name="sweep", agent=memory.MemoryJanitor.name),),
        input_schema=memory.MaintainInput,
    )
)

APPROVALS_DIGEST = workflow_register(
    Workflow(
        name="approvals.digest",
        description="Each day: what waits for the operator's approval and what was dead-lettered.",
        steps=(Step(name="digest", agent=operator.ApprovalDigest.name),),
        input_schema=operator.DigestInput,
        critical=True,
    )
)

RECORD_REVERT = workflow_register(
    Workflow(
        name="record.revert",
        description="Put records back as they were before a committed change (asked from the task page).",
        steps=(Step(name="revert", agent=operator.RecordReverter.name),),
        input_schema=operator.RevertInput,
        critical=True,
        max_attempts=1,
    )
)
