"""The connectors' part of a client's data: the raw mail as received (imported into the client's
conversations, or waiting in review with one of the client's addresses in it). Exported as .eml files,
deleted by an erase."""

from __future__ import annotations

from django.db.models import F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Lower

from connectors.models import InboundMail
from core.privacy import ClientDataPart, ClientScope
from core.privacy.bundle import ExportBundle, rows_of


def mail_about(scope: ClientScope) -> QuerySet[InboundMail]:
    condition = Q(message_id__in=scope.messages) | Q(message_id_header__in=scope.message_ids)
    mails = InboundMail.objects.all()
    if scope.addresses:
        # Mail that never became a message (review queue) is found by the client's addresses in its bytes
        # (bytea as text: ASCII stays readable, and addresses are ASCII).
        mails = mails.annotate(
            raw_text=Lower(Func(F("raw"), Value("escape"), function="encode", output_field=TextField()))
        )
        for address in scope.addresses:
            condition |= Q(raw_text__contains=address)
    return mails.filter(condition)


def inventory(scope: ClientScope) -> dict[str, int]:
    count = mail_about(scope).count()
    return {"raw mails": count} if count else {}


def export(scope: ClientScope, bundle: ExportBundle) -> dict[str, int]:
    mails = mail_about(scope).order_by("pk")
    count = bundle.add_rows("records", InboundMail._meta.label, rows_of(mails))
    for mail in mails.only("pk", "raw"):
        bundle.add_file(f"files/mail/{mail.pk}.eml", bytes(mail.raw))
    return {InboundMail._meta.label: count} if count else {}


def erase(scope: ClientScope, *, by) -> dict[str, int]:
    return {"raw mails": mail_about(scope).delete()[0]}


PART = ClientDataPart(
    name="connectors",
    export=export,
    erase=erase,
    inventory=inventory,
    models=lambda: (InboundMail,),
    order=30,
)
