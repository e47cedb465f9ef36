"""`manage.py import_mail PATH`: import mail from a .eml file, a folder of them, an mbox or a Maildir.

Each mail goes through `connectors.services.mail_ingest` (path "file"), so running it twice imports
nothing new: a Message-ID seen before is a duplicate. Mail that cannot be imported waits in the review
queue (admin → Connectors → Inbound mail, status "In review"); the summary lists it with the reason.
"""

from __future__ import annotations

import mailbox
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from connectors import services
from connectors.models import InboundMail

# (source, read the bytes): reading is deferred so a large mbox is not held in memory at once.
Item = tuple[str, Callable[[], bytes]]


def _is_maildir(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in ("cur", "new", "tmp"))


def _is_mbox(file: Path) -> bool:
    with file.open("rb") as handle:
        return handle.read(5) == b"From "


def _mailbox_items(box: mailbox.Mailbox, label: str) -> list[Item]:
    return [(f"{label}#{key}", lambda key=key: box.get_bytes(key)) for key in box.iterkeys()]


def mail_sources(path: Path) -> tuple[str, list[Item]]:
    """What PATH is and the mails in it, in a stable order."""
    if path.is_dir():
        if _is_maildir(path):
            box = mailbox.Maildir(path, factory=None, create=False)
            return "Maildir", sorted(_mailbox_items(box, str(path)), key=lambda item: item[0])
        files = sorted(file for file in path.rglob("*.eml") if file.is_file())
        return "folder", [(str(file), file.read_bytes) for file in files]
    if path.is_file():
        if _is_mbox(path):
            return "mbox", _mailbox_items(mailbox.mbox(path, factory=None, create=False), str(path))
        return "file", [(str(path), path.read_bytes)]
    raise CommandError(f"{path} is neither a file nor a folder.")


class Command(BaseCommand):
    help = "Import mail from a .eml file, a folder of .eml files (recursively), an mbox file or a Maildir."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="A .eml file, a folder, an mbox file or a Maildir folder.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, path: str, no_progress: bool = False, **options) -> None:
        root = Path(path).expanduser()
        if not root.exists():
            raise CommandError(f"{root} does not exist.")
        kind, items = mail_sources(root)
        counts: Counter[str] = Counter()
        in_review: list[InboundMail] = []
        unreadable: list[str] = []
        bar = tqdm(items, desc=f"Importing {kind}", unit="mail", file=sys.stderr, disable=no_progress)
        for source, read in bar:
            try:
                raw = read()
            except OSError as exc:
                unreadable.append(f"{source}: {exc}")
                continue
            inbound = services.mail_ingest(raw=raw, path=InboundMail.Path.FILE, source=source)
            counts[inbound.status] += 1
            if inbound.status == InboundMail.Status.REVIEW:
                in_review.append(inbound)
        bar.close()

        for inbound in in_review:
            self.stdout.write(f"  review #{inbound.pk} {inbound.source}: {inbound.reason}")
        for line in unreadable:
            self.stderr.write(f"  unreadable {line}")
        summary = (
            f"{len(items)} mails from {kind} {root}: {counts[InboundMail.Status.IMPORTED]} imported, "
            f"{counts[InboundMail.Status.DUPLICATE]} duplicates, {counts[InboundMail.Status.REVIEW]} review"
        )
        if unreadable:
            summary += f", {len(unreadable)} unreadable"
        self.stdout.write(self.style.SUCCESS(summary + "."))
