"""Where the operator sees money (issue 13): each invoice's timeline, payments and bank entries — read
for the phone pages (`/money/`), the API (`/api/v1/invoices/{id}/timeline`, `/payments`, `/bank-entries`)
and the back office's invoice page.

Read-only: nothing here writes money. A bank credit that waits for the operator is proposed through the
bank entry's own "Propose a payment" form, which submits a ledger task whose `payment.record` action waits
for approval like every payment (money floor).

`timeline` builds one invoice's events; `selectors` reads the lists; `api`, `schemas`, `views` and `urls`
serve them.
"""
