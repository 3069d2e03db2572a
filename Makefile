# The two commands of the README, and a few helpers.
.PHONY: run test lint format bench

run:   ## start the product with demo data (web + worker + beat)
	@scripts/run.sh

test:  ## lint and the whole test suite (PostgreSQL, Redis, Celery worker, Chromium)
	@scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: ## benchmarks; results are recorded in bench/RESULTS.md
	.venv/bin/python bench/bench_gates.py
	.venv/bin/python bench/bench_evidence_upload.py
