"""The approval queue (DESIGN §7): services that write ApprovalRequests and act on them.

An ApprovalRequest is created by the conductor, in the transaction that records the policy engine's
"ask" for an action. The operator approves (maybe after editing the draft: the edit is kept as a diff),
rejects with a reason, or lets it expire; each outcome decides the action, is a timeline event of the
task, and resumes the task once nothing else of it waits. Approvals of one agent's action kind feed the
autonomy suggestions (ledger.policy, kind `autonomy`).

The services live in ledger.services.approvals (and the suggestions in ledger.services.autonomy), next
to the conductor they share the operator's decision of an action with; this is their import path.
"""

from ledger.services.approvals import URGENT_EXTERNAL as URGENT_EXTERNAL
from ledger.services.approvals import URGENT_FLOORS as URGENT_FLOORS
from ledger.services.approvals import BatchResult as BatchResult
from ledger.services.approvals import action_revert_request as action_revert_request
from ledger.services.approvals import approval_approve as approval_approve
from ledger.services.approvals import approval_reject as approval_reject
from ledger.services.approvals import approval_request_create as approval_request_create
from ledger.services.approvals import approvals_approve_many as approvals_approve_many
from ledger.services.approvals import approvals_cancel_for_task as approvals_cancel_for_task
from ledger.services.approvals import approvals_expire as approvals_expire
from ledger.services.approvals import approvals_reject_many as approvals_reject_many
from ledger.services.autonomy import approval_run as approval_run
from ledger.services.autonomy import approval_streak as approval_streak
from ledger.services.autonomy import autonomy_accept as autonomy_accept
from ledger.services.autonomy import autonomy_dismiss as autonomy_dismiss
from ledger.services.autonomy import autonomy_draft as autonomy_draft
from ledger.services.autonomy import autonomy_revoke as autonomy_revoke
from ledger.services.autonomy import suggested_params as suggested_params
