from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from artifacts_app import services


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME (the user is created if missing). Prints the token last."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label for the token, shown in admin.")
        parser.add_argument("--staff", action="store_true", help="Make a newly created user staff.")

    def handle(self, *args, username, name="", staff=False, **options):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": staff}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            self.stderr.write(f"Created user {username!r}.")
        _, raw = services.token_create(user=user, name=name or "created by create_api_token")
        self.stderr.write(f"API token for {username!r} (stored hashed; shown only this once):")
        self.stdout.write(raw)
        return None
