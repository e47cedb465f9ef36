"""`manage.py intake_extract FILE.eml`: the intake agent's fields of one mail, as one JSON object.

The fields are the extraction contract's (intent, sender_email, sender_name, company, budget, deadline,
services, invoice_numbers, payment), in that order; the evidence behind them stays out of the output.
Services are the keys of the workspace's active pricing rules, or of the demo catalogue when the database
has none; invoice numbers are read in the workspace's prefix (the demo's when there is no workspace).
The offline rules answer by default, so the output is deterministic; `--llm` runs the agent on its model tier.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.intake import IntakeAgent, ServiceInfo, extract_rules, intake_input_from_mail
from agents.kernel import AgentContext
from connectors.mime import parse_message
from core import selectors as core_selectors
from core.demo import DATA_DIR
from core.models import PricingRule
from ledger.llm import LLMGateway


def service_catalogue() -> list[ServiceInfo]:
    """The workspace's services in catalogue order (the order the pricing rules were created in, which
    is the order of the demo catalogue), else the demo catalogue itself."""
    # `service_catalogue()` lists the rules by key; the contract lists services in catalogue order.
    created = PricingRule.objects.filter(active=True).order_by("pk").values_list("service_key", flat=True)
    order = {key: index for index, key in enumerate(created)}
    rules = sorted(core_selectors.service_catalogue(), key=lambda rule: order.get(rule["key"], len(order)))
    if not rules:
        with (DATA_DIR / "services.csv").open(encoding="utf-8", newline="") as catalogue:
            rules = list(csv.DictReader(catalogue))
    return [
        ServiceInfo(
            key=rule["key"],
            name=rule["name"],
            description=rule.get("description") or "",
            currency=rule.get("currency") or "",
        )
        for rule in rules
    ]


def invoice_prefix() -> str:
    """The workspace's invoice prefix, else the demo workspace's (the samples are written to it)."""
    workspace = core_selectors.workspace_get()
    if workspace is not None:
        return workspace.invoice_prefix
    return json.loads((DATA_DIR / "demo.json").read_text(encoding="utf-8"))["workspace"]["invoice_prefix"]


class Command(BaseCommand):
    help = "Print the intake fields of one .eml file as JSON (the extraction contract)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="A raw email (.eml).")
        parser.add_argument(
            "--llm",
            action="store_true",
            help="Ask the agent's model tier (recorded as an LLM call); by default the offline rules answer.",
        )
        parser.add_argument("--indent", type=int, default=1)

    def handle(self, *args, file: Path, llm: bool, indent: int, **options) -> None:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        mail = parse_message(raw)
        if mail.fatal:
            raise CommandError(f"{file}: the mail cannot be read: {mail.fatal}")
        input = intake_input_from_mail(  # noqa: A001
            mail=mail, services=service_catalogue(), invoice_prefix=invoice_prefix()
        )
        if not llm:
            fields = extract_rules(input)
        else:
            agent = IntakeAgent()
            context = AgentContext(
                task_id="",
                workflow="",
                step="intake",
                attempt=1,
                mode="command",
                llm=LLMGateway(step="intake", agent=agent.name),
            )
            fields = agent.run(context, input).output
        self.stdout.write(json.dumps(fields.contract(), ensure_ascii=False, indent=indent or None))
