"""The conductor and the services around it: submit, claim, run, commit, deliver, retry, dead-letter,
cancel, replay (one concern per module; ledger.services.run tells the rules that make it safe)."""

from ledger.services.actions import action_approve as action_approve
from ledger.services.actions import action_reject as action_reject
from ledger.services.claim import RUNNABLE as RUNNABLE
from ledger.services.claim import Claim as Claim
from ledger.services.claim import task_claim as task_claim
from ledger.services.decisions import action_decide_by_operator as action_decide_by_operator
from ledger.services.decisions import action_expire as action_expire
from ledger.services.delivery import outbox_notice_refresh as outbox_notice_refresh
from ledger.services.errors import BudgetDeferred as BudgetDeferred
from ledger.services.errors import ClaimLost as ClaimLost
from ledger.services.errors import DeliveryFailed as DeliveryFailed
from ledger.services.errors import NeedsReview as NeedsReview
from ledger.services.errors import OutboxPending as OutboxPending
from ledger.services.events import task_event as task_event
from ledger.services.failures import CANCELLABLE as CANCELLABLE
from ledger.services.failures import retry_delay as retry_delay
from ledger.services.failures import task_cancel as task_cancel
from ledger.services.failures import task_discard as task_discard
from ledger.services.failures import task_retry as task_retry
from ledger.services.invoices import invoice_send_request as invoice_send_request
from ledger.services.notices import budget_notice_submit as budget_notice_submit
from ledger.services.notices import notice_dismiss as notice_dismiss
from ledger.services.notices import notice_raise as notice_raise
from ledger.services.notices import notice_resolve as notice_resolve
from ledger.services.replay import ReplayReport as ReplayReport
from ledger.services.replay import task_replay as task_replay
from ledger.services.run import task_execute as task_execute
from ledger.services.submit import task_enqueue as task_enqueue
from ledger.services.submit import task_submit as task_submit
from ledger.services.submit import task_submit_or_get as task_submit_or_get
from ledger.services.submit import tasks_enqueue_many as tasks_enqueue_many
from ledger.services.submit import tasks_submit_many as tasks_submit_many
from ledger.services.sweep import ledger_sweep as ledger_sweep
