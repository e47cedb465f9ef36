"""Writes to the canonical records. Every change to core data goes through one of these functions.

Each function validates first (raising `django.core.exceptions.ValidationError` with field-level
messages), then writes inside a transaction, naming `by` (the user) in the history row. The database
constraints and triggers repeat the important invariants, so a bug here cannot corrupt money records.

One module per domain (the workspace and its catalogue, clients and their projects and contracts,
money documents, conversations and what comes of them); the names below are the ones callers import
from `core.services`.
"""

from core.services._common import currency_normalise as currency_normalise
from core.services._common import decimal_parse as decimal_parse
from core.services._common import email_normalise as email_normalise
from core.services._common import history_reason as history_reason
from core.services.acceptance import Acceptance as Acceptance
from core.services.acceptance import deposit_lines as deposit_lines
from core.services.acceptance import proposal_accept as proposal_accept
from core.services.acceptance import proposal_decline as proposal_decline
from core.services.clients import CLIENT_FIELDS as CLIENT_FIELDS
from core.services.clients import CONTACT_FIELDS as CONTACT_FIELDS
from core.services.clients import CONTRACT_FIELDS as CONTRACT_FIELDS
from core.services.clients import DELIVERABLE_FIELDS as DELIVERABLE_FIELDS
from core.services.clients import PROJECT_FIELDS as PROJECT_FIELDS
from core.services.clients import client_create as client_create
from core.services.clients import client_delete as client_delete
from core.services.clients import client_for_sender as client_for_sender
from core.services.clients import client_update as client_update
from core.services.clients import contact_create as contact_create
from core.services.clients import contact_delete as contact_delete
from core.services.clients import contact_update as contact_update
from core.services.clients import contract_create as contract_create
from core.services.clients import contract_delete_draft as contract_delete_draft
from core.services.clients import contract_update as contract_update
from core.services.clients import deliverable_create as deliverable_create
from core.services.clients import deliverable_delete as deliverable_delete
from core.services.clients import deliverable_update as deliverable_update
from core.services.clients import project_create as project_create
from core.services.clients import project_delete as project_delete
from core.services.clients import project_update as project_update
from core.services.conversations import CONVERSATION_FIELDS as CONVERSATION_FIELDS
from core.services.conversations import MESSAGE_FIELDS as MESSAGE_FIELDS
from core.services.conversations import NOTE_FIELDS as NOTE_FIELDS
from core.services.conversations import artifact_store as artifact_store
from core.services.conversations import conversation_create as conversation_create
from core.services.conversations import conversation_update as conversation_update
from core.services.conversations import decision_record as decision_record
from core.services.conversations import message_id_normalise as message_id_normalise
from core.services.conversations import message_record as message_record
from core.services.conversations import note_create as note_create
from core.services.conversations import note_delete as note_delete
from core.services.conversations import note_update as note_update
from core.services.deletion import record_delete_check as record_delete_check
from core.services.lines import LineData as LineData
from core.services.lines import line_amounts as line_amounts
from core.services.money import INVOICE_DRAFT_FIELDS as INVOICE_DRAFT_FIELDS
from core.services.money import INVOICE_TRANSITIONS as INVOICE_TRANSITIONS
from core.services.money import PROPOSAL_FIELDS as PROPOSAL_FIELDS
from core.services.money import PROPOSAL_TRANSITIONS as PROPOSAL_TRANSITIONS
from core.services.money import credit_note_create as credit_note_create
from core.services.money import credit_note_number_format as credit_note_number_format
from core.services.money import invoice_create as invoice_create
from core.services.money import invoice_delete_draft as invoice_delete_draft
from core.services.money import invoice_issue as invoice_issue
from core.services.money import invoice_line_delete as invoice_line_delete
from core.services.money import invoice_line_save as invoice_line_save
from core.services.money import invoice_mark_overdue as invoice_mark_overdue
from core.services.money import invoice_mark_paid as invoice_mark_paid
from core.services.money import invoice_mark_sent as invoice_mark_sent
from core.services.money import invoice_number_format as invoice_number_format
from core.services.money import invoice_reissue as invoice_reissue
from core.services.money import invoice_update as invoice_update
from core.services.money import invoice_void as invoice_void
from core.services.money import proposal_create as proposal_create
from core.services.money import proposal_delete_draft as proposal_delete_draft
from core.services.money import proposal_line_delete as proposal_line_delete
from core.services.money import proposal_line_save as proposal_line_save
from core.services.money import proposal_send_record as proposal_send_record
from core.services.money import proposal_transition as proposal_transition
from core.services.money import proposal_update as proposal_update
from core.services.payments import AllocationData as AllocationData
from core.services.payments import EntryData as EntryData
from core.services.payments import bank_statement_store as bank_statement_store
from core.services.payments import invoice_import_issued as invoice_import_issued
from core.services.payments import payer_account_remember as payer_account_remember
from core.services.payments import payment_allocate as payment_allocate
from core.services.payments import payment_record as payment_record
from core.services.receivables import ReminderDue as ReminderDue
from core.services.receivables import ReminderLevel as ReminderLevel
from core.services.receivables import invoice_reminder_cancel as invoice_reminder_cancel
from core.services.receivables import invoice_reminder_sending as invoice_reminder_sending
from core.services.receivables import invoice_reminder_sent as invoice_reminder_sent
from core.services.receivables import invoice_reminders_due as invoice_reminders_due
from core.services.receivables import invoice_reminders_pause as invoice_reminders_pause
from core.services.receivables import invoice_reminders_propose as invoice_reminders_propose
from core.services.receivables import invoice_reminders_resume as invoice_reminders_resume
from core.services.receivables import invoices_overdue_mark as invoices_overdue_mark
from core.services.records import RecordChange as RecordChange
from core.services.records import record_delete as record_delete
from core.services.records import record_revert as record_revert
from core.services.records import record_update as record_update
from core.services.records import record_version_fields as record_version_fields
from core.services.tokens import api_token_authenticate as api_token_authenticate
from core.services.tokens import api_token_check as api_token_check
from core.services.tokens import api_token_create as api_token_create
from core.services.tokens import api_token_hash as api_token_hash
from core.services.tokens import api_token_revoke as api_token_revoke
from core.services.workspace import BUSINESS_FIELDS as BUSINESS_FIELDS
from core.services.workspace import PRICING_FIELDS as PRICING_FIELDS
from core.services.workspace import TEMPLATE_FIELDS as TEMPLATE_FIELDS
from core.services.workspace import WORKSPACE_FIELDS as WORKSPACE_FIELDS
from core.services.workspace import action_template_delete as action_template_delete
from core.services.workspace import action_template_upsert as action_template_upsert
from core.services.workspace import pricing_rule_delete as pricing_rule_delete
from core.services.workspace import pricing_rule_upsert as pricing_rule_upsert
from core.services.workspace import workspace_configure as workspace_configure
