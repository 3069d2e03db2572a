from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.policies.loader import PolicyError
from governance.policies.services import policy_publish


class Command(BaseCommand):
    help = "Validate a policy YAML file, store it as a new version, print its sha256."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--reason", default="loaded from file")

    def handle(self, *args, file, reason, **options):
        path = Path(file)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot read: {exc.strerror}") from exc
        try:
            version = policy_publish(text=raw, author=None, reason=reason)
        except PolicyError as exc:
            raise CommandError(f"{file}: invalid policy\n" + "\n".join(f"  {issue}" for issue in exc.issues)) from exc
        self.stdout.write(f"{version.policy.name} v{version.number}")
        self.stdout.write(version.sha256)
