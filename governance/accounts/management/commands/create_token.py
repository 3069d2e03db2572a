from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.accounts.services import token_issue


class Command(BaseCommand):
    help = "Create an API token for USER. The token is printed alone on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("user")
        parser.add_argument("--name", default="")

    def handle(self, *args, user, name, **options):
        User = get_user_model()
        try:
            account = User.objects.get(**{User.USERNAME_FIELD: user})
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {user!r}") from exc
        if not account.is_active:
            raise CommandError(f"user {user!r} is inactive")
        _, key = token_issue(actor=None, user=account, name=name, via="manage.py create_token")
        self.stdout.write(f"token for {account.get_username()} (stored hashed; shown once):")
        self.stdout.write(key)
