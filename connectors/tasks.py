"""django-q2 entry points. Thin: each calls one function and returns something the q2 admin can show."""

from connectors import imap


def imap_poll_all() -> list[str]:
    """Every minute (schedule "mail-imap-poll"): poll each enabled mailbox; failures are on the mailbox."""
    return [str(result) for result in imap.imap_poll_all()]
