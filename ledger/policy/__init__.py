"""The policy engine (DESIGN §7): what may happen without the operator, and what LLM work may cost.

Policies are rows (`ledger.models.Policy`, versioned with django-simple-history) of five kinds, each with
its own parameters, validated here with readable errors:

- `approval`: conditions on an action (kind, effect class, agent, amount over a threshold, recipient never
  written to before, agent confidence below a level, client status, untrusted source) and an effect:
  commit, ask the operator, or deny. Of the policies that match an action the strictest wins
  (deny > ask > commit); when none matches the operator is asked.
- `budget`: a monthly LLM spend cap, for the workspace or for one agent. Once reached, non-critical work
  is deferred (and the operator told); critical work drops to a cheaper tier or to `rules`.
- `retention`: how long memory of a tier (and kind) is kept. Canonical memory is never deleted.
- `delivery`: how long an email the mail server did not take is tried again (default 3 days) and how
  the waits between tries grow; then the workspace gives up on it and tells the operator (ADR 0014).
- `autonomy`: after N approvals in a row without edits of one agent's action kind, the workspace
  proposes a commit policy for it; the operator accepts or dismisses the suggestion. For work started by
  mail the proposed policy is narrow (one kind, one agent, known recipients, amounts capped) and is the one
  kind of policy allowed to win over the untrusted-input caution (`prevails_over`, ADR 0015).

Hard floors hold whatever the policies say, and the editor refuses a policy that tries to lift them:
payments and any change to money records, sending to a recipient the workspace has never written to, and
deleting records always need the operator. A condition on a fact an action lacks (no amount, no
confidence) does not hold; what no policy matches waits for the operator.
"""

# The effect classes are declared with the committers (ledger.commit); policies are written in them.
from ledger.commit import DELETE as DELETE
from ledger.commit import EFFECTS as EFFECTS
from ledger.commit import EXTERNAL as EXTERNAL
from ledger.commit import INTERNAL as INTERNAL
from ledger.commit import MONEY as MONEY
from ledger.commit import RECORD as RECORD
from ledger.policy.budget import DEFER as DEFER
from ledger.policy.budget import DOWNGRADE as DOWNGRADE
from ledger.policy.budget import OK as OK
from ledger.policy.budget import BudgetVerdict as BudgetVerdict
from ledger.policy.budget import budget_check as budget_check
from ledger.policy.budget import budgets_reached as budgets_reached
from ledger.policy.budget import llm_spend as llm_spend
from ledger.policy.budget import month_start as month_start
from ledger.policy.delivery import delivery_backoff as delivery_backoff
from ledger.policy.delivery import delivery_gives_up_at as delivery_gives_up_at
from ledger.policy.delivery import delivery_rules as delivery_rules
from ledger.policy.engine import action_decide as action_decide
from ledger.policy.engine import conditions_failing as conditions_failing
from ledger.policy.facts import OPERATOR_WORKFLOWS as OPERATOR_WORKFLOWS
from ledger.policy.facts import Facts as Facts
from ledger.policy.facts import action_facts as action_facts
from ledger.policy.facts import addresses_known as addresses_known
from ledger.policy.facts import task_untrusted as task_untrusted
from ledger.policy.floors import FLOOR_DELETE as FLOOR_DELETE
from ledger.policy.floors import FLOOR_MONEY as FLOOR_MONEY
from ledger.policy.floors import FLOOR_NEW_RECIPIENT as FLOOR_NEW_RECIPIENT
from ledger.policy.floors import FLOOR_PERSONAL as FLOOR_PERSONAL
from ledger.policy.floors import FLOOR_TEXT as FLOOR_TEXT
from ledger.policy.params import PARAMS as PARAMS
from ledger.policy.params import ApprovalParams as ApprovalParams
from ledger.policy.params import AutonomyParams as AutonomyParams
from ledger.policy.params import BudgetParams as BudgetParams
from ledger.policy.params import DeliveryParams as DeliveryParams
from ledger.policy.params import RetentionParams as RetentionParams
from ledger.policy.params import is_untrusted_caution as is_untrusted_caution
from ledger.policy.params import policy_params_validate as policy_params_validate
from ledger.policy.params import precedence_not_narrow as precedence_not_narrow
from ledger.policy.params import untrusted_cautions as untrusted_cautions
from ledger.policy.retention import retention_rules_from_policies as retention_rules_from_policies
from ledger.policy.store import policies_enabled as policies_enabled
from ledger.policy.store import policy_save as policy_save
from ledger.policy.verdict import ASK as ASK
from ledger.policy.verdict import COMMIT as COMMIT
from ledger.policy.verdict import DENY as DENY
from ledger.policy.verdict import SEVERITY as SEVERITY
from ledger.policy.verdict import Verdict as Verdict
