"""Hard floors: what always needs the operator, whatever the policies say."""

from __future__ import annotations

from ledger.commit import DELETE, MONEY, PERSONAL
from ledger.policy.facts import Facts

FLOOR_MONEY = "money"
FLOOR_NEW_RECIPIENT = "new_recipient"
FLOOR_DELETE = "delete"
FLOOR_PERSONAL = "personal_data"
FLOOR_TEXT = {
    FLOOR_MONEY: "payments and changes to money records always need the operator",
    FLOOR_NEW_RECIPIENT: "sending to a recipient the workspace has never written to needs the operator",
    FLOOR_DELETE: "deleting records always needs the operator",
    FLOOR_PERSONAL: "handing over or erasing a client's personal data always needs the operator",
}


def floors_for(facts: Facts) -> list[str]:
    floors = []
    if facts.effect == MONEY:
        floors.append(FLOOR_MONEY)
    if facts.effect == DELETE:
        floors.append(FLOOR_DELETE)
    if facts.effect == PERSONAL:
        floors.append(FLOOR_PERSONAL)
    if facts.new_recipients:
        floors.append(FLOOR_NEW_RECIPIENT)
    return floors
