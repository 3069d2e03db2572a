"""Versions registered from records other systems keep (an MLflow run: `mlflow.py`)."""
