"""The client-data workflows, registered when the ledger app is ready."""

from agents.kernel import workflow_one_step
from ledger.privacy import agents

CLIENT_EXPORT = workflow_one_step(
    name="client.export",
    step="inventory",
    agent=agents.ClientExporter,
    description="Everything about one client as a zip of JSON and files, once the operator approves.",
    critical=True,
    max_attempts=3,
)

CLIENT_ERASE = workflow_one_step(
    name="client.erase",
    step="inventory",
    agent=agents.ClientEraser,
    description="Remove or anonymise one client's personal data (issued invoices and payments are kept).",
    critical=True,
    max_attempts=5,
)
