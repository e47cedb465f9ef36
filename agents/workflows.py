"""The workflows of the workspace, declared in code. Imported when the agents app is ready."""

from agents import mail, reports, summariser
from agents.kernel import Step, Workflow, workflow_register

EMAIL_SEND = workflow_register(
    Workflow(
        name="email.send",
        description="Compose an email (from a template or given text) and send it once approved.",
        steps=(Step(name="compose", agent=mail.MailComposer.name),),
        input_schema=mail.MailInput,
    )
)

LEDGER_PING = workflow_register(
    Workflow(
        name="ledger.ping",
        description="A no-op round trip through the ledger, for health checks and benchmarks.",
        steps=(Step(name="echo", agent=mail.Echo.name),),
        input_schema=mail.PingInput,
    )
)

DAILY_COST_REPORT = workflow_register(
    Workflow(
        name="report.daily_cost",
        description="One day's LLM spend per agent and model (run each night by the schedule).",
        steps=(Step(name="report", agent=reports.CostReporter.name),),
        input_schema=reports.CostReportInput,
    )
)

TEXT_SUMMARISE = workflow_register(
    Workflow(
        name="text.summarise",
        description="Summarise a text (an email thread, notes) with the fast model, or offline by rules.",
        steps=(Step(name="summarise", agent=summariser.ThreadSummariser.name),),
        input_schema=summariser.SummariseInput,
    )
)
