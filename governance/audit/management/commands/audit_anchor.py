from django.core.management.base import BaseCommand

from governance.audit.anchor import anchor_write


class Command(BaseCommand):
    # No system checks: they import every URLconf and view (charts, PDFs, statistics), about
    # 120 MB of RSS this command never uses (bench/RESULTS.md). `manage.py check` runs them.
    requires_system_checks = []
    help = (
        "Write the audit chain head now, signed, to a new file under the media storage (and email "
        "it to AUDIT_ANCHOR_EMAILS). Beat does this daily; `verify_audit --anchor FILE` checks it."
    )

    def handle(self, *args, **options):
        anchor = anchor_write()
        doc = anchor.document
        self.stdout.write(f"anchored event #{doc['seq']} ({doc['hash']}) at {doc['written_at']}")
        self.stdout.write(f"file: {anchor.name}")
        if anchor.emailed_to:
            self.stdout.write(f"emailed to: {', '.join(anchor.emailed_to)}")
