from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation and its worked examples (`manage.py seed_demo`). No models."""

    name = "governance.demo"
    label = "demo"
