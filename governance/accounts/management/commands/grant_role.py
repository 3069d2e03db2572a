from django.core.management.base import BaseCommand

from governance.accounts.management.commands._role_args import add_role_arguments, resolve_role_arguments
from governance.accounts.services import role_grant


class Command(BaseCommand):
    help = "Grant ROLE to USER on a team (all its models) or on one model."

    def add_arguments(self, parser):
        add_role_arguments(parser)

    def handle(self, *args, **options):
        target = resolve_role_arguments(options)
        role_grant(actor=None, **target)
        scope = f"team {target['team'].name}" if target["team"] else f"model {target['model'].name}"
        self.stdout.write(f"granted {target['role']} to {target['user'].get_username()} on {scope}")
