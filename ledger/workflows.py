"""The ledger's own workflows, declared in code and registered when the ledger app is ready.

The agents' workflows (intake, proposals, reminders…) are declared in agents/workflows.py; these are the
ones whose agents live in the ledger because they read or change the ledger itself: its housekeeping (cost
report, memory retention, the approvals digest, reverting a committed change) and a client's data (export,
erase), which has to gather the ledger's rows too.
"""

from agents.kernel import workflow_one_step
from ledger.housekeeping import agents as housekeeping
from ledger.privacy import agents as privacy

# --- Housekeeping ---------------------------------------------------------------------------------

DAILY_COST_REPORT = workflow_one_step(
    name="report.daily_cost",
    step="report",
    agent=housekeeping.CostReporter,
    description="One day's LLM spend per agent and model (run each night by the schedule).",
)

MEMORY_MAINTAIN = workflow_one_step(
    name="memory.maintain",
    step="sweep",
    agent=housekeeping.MemoryJanitor,
    description="Delete memories whose time is up: expired session items, and what retention says.",
)

APPROVALS_DIGEST = workflow_one_step(
    name="approvals.digest",
    step="digest",
    agent=housekeeping.ApprovalDigest,
    description="Each day: what waits for the operator's approval and what was dead-lettered.",
    critical=True,
)

RECORD_REVERT = workflow_one_step(
    name="record.revert",
    step="revert",
    agent=housekeeping.RecordReverter,
    description="Put records back as they were before a committed change (asked from the task page).",
    critical=True,
    max_attempts=1,
)

# --- A client's data (docs/adr/0012) --------------------------------------------------------------

CLIENT_EXPORT = workflow_one_step(
    name="client.export",
    step="inventory",
    agent=privacy.ClientExporter,
    description="Everything about one client as a zip of JSON and files, once the operator approves.",
    critical=True,
    max_attempts=3,
)

CLIENT_ERASE = workflow_one_step(
    name="client.erase",
    step="inventory",
    agent=privacy.ClientEraser,
    description="Remove or anonymise one client's personal data (issued invoices and payments are kept).",
    critical=True,
    max_attempts=5,
)
