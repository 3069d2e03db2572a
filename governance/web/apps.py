from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "governance.web"
    label = "web"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from governance.web.signals import remember_authentication_time

        user_logged_in.connect(remember_authentication_time, dispatch_uid="web.remember_authentication_time")
