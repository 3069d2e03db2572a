from django.core.management.base import BaseCommand, CommandError

from governance.audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the audit hash chain: prints OK, or names the first bad event and exits non-zero."

    def handle(self, *args, **options):
        verdict = audit_verify()
        if not verdict.ok:
            raise CommandError(f"audit chain broken at event #{verdict.first_bad_seq}: {verdict.reason}")
        self.stdout.write(f"OK ({verdict.checked} events)")
