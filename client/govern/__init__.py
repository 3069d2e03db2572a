"""govern: the model governance API's command-line client, for CI pipelines (docs/cli.md)."""

__version__ = "0.1.0"
