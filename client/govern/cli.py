"""`govern`: the governance API for CI jobs (docs/cli.md).

Exit codes: 0 done (filed, awaiting approvals or promoted), 1 a gate failed or the request
was rejected (or closed otherwise), 2 usage, auth, connection or API error, 3 timed out
waiting. An inconclusive gate that blocks (policy `on_inconclusive: block`) is 1 like a failed
gate; one awaiting acceptance by a named role is 0, awaiting approvals. A failure prints one
line on stderr; `--json` prints machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from govern import __version__
from govern import mlflow as mlflow_import
from govern.api import FAILED, OK, TIMED_OUT, Api, Failure, error_line
from govern.output import (
    FINAL_GATE,
    GATES_DONE,
    SUCCESS,
    dry_run_lines,
    gate_header,
    gate_row,
    request_lines,
    request_title,
    status_line,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):
        raise Failure(f"{message} (see `{self.prog} --help`)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text}")
    return value


def _interval(text: str) -> float:
    value = _seconds(text)
    if value < 0.1:
        raise argparse.ArgumentTypeError("the polling interval is at least 0.1 s")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="govern", description="Register, upload evidence and promote model versions from CI.")
    parser.add_argument("--version", action="version", version=f"govern {__version__}")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON on stdout")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("register", parents=[common], help="register a version of MODEL; prints its number")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--artifact-uri", required=True, help="where the trained artifact lives")
    p.add_argument("--artifact-sha256", required=True, help="sha256 of the artifact (64 hex characters)")
    p.add_argument("--code-hash", required=True, help="the commit the model was trained from")
    p.add_argument("--data-snapshot", required=True, help="ID of the training data snapshot")
    p.add_argument("--seed", required=True, type=_positive_int, help="the training seed")
    p.add_argument("--training-config", metavar="FILE", type=Path, help="training configuration, a JSON object")
    p.add_argument("--framework", default="", help='e.g. "xgboost 2.1"')
    p.add_argument("--number", type=_positive_int, help="the version number (default: the next one)")

    p = sub.add_parser("upload", parents=[common], help="upload one evidence file of a version")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("version", metavar="VERSION", type=_positive_int)
    p.add_argument("kind", metavar="KIND", help="predictions, metrics, latency, cost, sbom, licenses, ...")
    p.add_argument("file", metavar="FILE", type=Path)
    p.add_argument(
        "--timeout", type=_seconds, default=1800.0, help="seconds to wait for a large file's parse (default 1800)"
    )
    p.add_argument("--interval", type=_interval, default=2.0, help="seconds between polls (default 2)")

    def waiting(p):
        p.add_argument("--wait", action="store_true", help="wait for the gates, printing each outcome")
        p.add_argument("--timeout", type=_seconds, default=1800.0, help="seconds to wait (default 1800)")
        p.add_argument("--interval", type=_interval, default=2.0, help="seconds between polls (default 2)")

    p = sub.add_parser("promote", parents=[common], help="request a promotion of a version")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("version", metavar="VERSION", type=_positive_int)
    p.add_argument("--to", required=True, dest="to_stage", metavar="STAGE", help="staging, production, ...")
    p.add_argument("--change-type", default="standard", help="standard (default), emergency or experiment")
    p.add_argument("--ticket", default="", help="change or incident ticket ID")
    p.add_argument("--justification", default="", help="why (default: names the CI run)")
    waiting(p)

    p = sub.add_parser("status", parents=[common], help="a request's status, gates and approvals")
    p.add_argument("request_id", metavar="REQUEST_ID", type=_positive_int)
    waiting(p)

    p = sub.add_parser("dry-run", parents=[common], help="would this version pass the gates? creates nothing")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("version", metavar="VERSION", type=_positive_int)
    p.add_argument("--to", required=True, dest="to_stage", metavar="STAGE")
    p.add_argument("--timeout", type=_seconds, default=600.0, help="seconds to wait for the verdict (default 600)")
    p.add_argument("--interval", type=_interval, default=2.0, help="seconds between polls (default 2)")

    mlflow_import.add_parser(sub, [common])
    return parser


def _say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


def _ci_justification() -> str:
    if os.environ.get("GITHUB_RUN_ID") and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"Requested by govern from {server}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    if os.environ.get("CI_PIPELINE_URL"):
        return f"Requested by govern from {os.environ['CI_PIPELINE_URL']}"
    return "Requested by govern."


# --- commands ----------------------------------------------------------------------------


def cmd_register(api: Api, args) -> int:
    config = {}
    if args.training_config is not None:
        try:
            config = json.loads(args.training_config.read_text(encoding="utf-8"))
        except OSError as exc:
            raise Failure(f"cannot read --training-config {args.training_config}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise Failure(f"--training-config {args.training_config} is not valid JSON: {exc}") from None
        if not isinstance(config, dict):
            raise Failure(f"--training-config {args.training_config} must hold a JSON object ({{...}}).")
    payload = {
        "artifact_uri": args.artifact_uri,
        "artifact_sha256": args.artifact_sha256,
        "code_hash": args.code_hash,
        "data_snapshot_id": args.data_snapshot,
        "training_config": config,
        "seed": args.seed,
        "framework": args.framework,
    }
    if args.number is not None:
        payload["version"] = args.number
    version = api.register(args.model, payload)
    if args.json:
        _say(json.dumps(version))
    else:
        _say(str(version.get("version")))
    return OK


def cmd_upload(api: Api, args) -> int:
    if not args.file.is_file():
        raise Failure(f"no file {args.file}" + (" (a directory)" if args.file.is_dir() else ""))
    try:
        artifact = api.upload(args.model, args.version, args.kind, args.file)
    except OSError as exc:
        raise Failure(f"cannot read {args.file}: {exc.strerror or exc}") from None
    if artifact.get("status") in ("queued", "parsing"):
        artifact = _wait_for_parse(api, artifact, args)
    if args.json:
        _say(json.dumps(artifact))
    else:
        rows = f", {artifact['row_count']} rows" if artifact.get("row_count") is not None else ""
        _say(f"{artifact.get('kind')} {artifact.get('original_name')}: sha256 {artifact.get('sha256')}{rows}")
    return OK


def _poll(
    args,
    item: dict,
    *,
    busy: Callable[[dict], bool],
    refresh: Callable[[dict], dict],
    late: Callable[[dict], str],
    deadline: float | None = None,
    json_on_timeout: bool = False,
) -> dict:
    """Fetch `item` again every --interval seconds while it is busy. Past the deadline (default:
    --timeout from now) fail with exit code 3 and say what `late` says of the last state
    (printing that state first under --json when `json_on_timeout`)."""
    if deadline is None:
        deadline = time.monotonic() + args.timeout
    while busy(item):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if json_on_timeout and args.json:
                _say(json.dumps(item))
            raise Failure(f"timed out after {args.timeout:g} s: {late(item)}", exit_code=TIMED_OUT)
        time.sleep(min(args.interval, remaining))
        item = refresh(item)
    return item


def _wait_for_parse(api: Api, upload: dict, args) -> dict:
    """A large file is parsed by a worker (202): poll until it is accepted (its artifact) or
    refused (the parser's error, as for a small file)."""
    if not args.json:
        _say(f"{upload.get('original_name')}: large file, parsing queued on the server; waiting")
    upload = _poll(
        args,
        upload,
        busy=lambda u: u.get("status") in ("queued", "parsing"),
        refresh=lambda u: api.upload_status(u["id"]),
        late=lambda u: f"the upload is still {u.get('status')}; see {u.get('status_url')}",
    )
    if upload.get("status") == "refused":
        error = upload.get("error") or {}
        raise Failure(error_line(400, error), error=error)
    return upload["artifact"]


def _page(api: Api, promotion: dict) -> str:
    return api.page_url(f"requests/{promotion.get('id')}/")


def _exit_for(promotion: dict) -> int:
    return OK if promotion.get("status") in SUCCESS else FAILED


def _show(api: Api, promotion: dict, *, table: bool = True) -> None:
    lines = [request_title(promotion), status_line(promotion)]
    if table and promotion.get("gates"):
        lines += [gate_header(), *(gate_row(g) for g in promotion["gates"])]
    lines += request_lines(promotion)
    lines.append(f"page: {_page(api, promotion)}")
    _say(*lines)


def _wait(api: Api, promotion: dict, args) -> int:
    """Poll until the gates are done, printing each gate's outcome as it arrives."""
    deadline = time.monotonic() + args.timeout
    shown: set[tuple] = set()

    def show_final_gates(promotion: dict) -> dict:
        if not args.json:
            for gate in promotion.get("gates") or []:
                key = (promotion.get("gate_round"), gate.get("gate_id"))
                if gate.get("status") in FINAL_GATE and key not in shown:
                    if not shown:
                        _say(gate_header())
                    shown.add(key)
                    _say(gate_row(gate))
        return promotion

    def late(promotion: dict) -> str:
        gates = promotion.get("gates") or []
        done = sum(1 for g in gates if g.get("status") in FINAL_GATE)
        return (
            f"request {promotion.get('id')} is {promotion.get('status')} ({done} of {len(gates)} gates final); "
            f"go on with `govern status {promotion.get('id')} --wait`"
        )

    if not args.json:
        _say(request_title(promotion), f"waiting for the gates (timeout {args.timeout:g} s)")
    promotion = _poll(
        args,
        show_final_gates(promotion),
        busy=lambda p: p.get("status") not in GATES_DONE,
        refresh=lambda p: show_final_gates(api.promotion(p["id"])),
        late=late,
        deadline=deadline,
        json_on_timeout=True,
    )
    if args.json:
        _say(json.dumps(promotion))
    else:
        _say(status_line(promotion), *request_lines(promotion))
        _say(f"page: {_page(api, promotion)}")
    return _finish(promotion)


def _finish(promotion: dict) -> int:
    code = _exit_for(promotion)
    if code != OK:
        reason = promotion.get("status_reason") or ""
        print(
            f"govern: request {promotion.get('id')} {promotion.get('status')}: {reason}".rstrip(": "), file=sys.stderr
        )
    return code


def cmd_promote(api: Api, args) -> int:
    payload = {
        "to_stage": args.to_stage,
        "change_type": args.change_type,
        "ticket_id": args.ticket,
        "justification": args.justification or _ci_justification(),
    }
    promotion = api.promote(args.model, args.version, payload)
    if args.wait:
        return _wait(api, promotion, args)
    if args.json:
        _say(json.dumps(promotion))
    else:
        _show(api, promotion, table=False)
        _say(f"follow it with: govern status {promotion.get('id')} --wait")
    return _finish(promotion)


def cmd_status(api: Api, args) -> int:
    promotion = api.promotion(args.request_id)
    if args.wait:
        return _wait(api, promotion, args)
    if args.json:
        _say(json.dumps(promotion))
    else:
        _show(api, promotion)
    return _finish(promotion)


def cmd_dry_run(api: Api, args) -> int:
    """0 would pass, 1 would fail or is inconclusive, 3 timed out (on the worker or waiting)."""
    deadline = time.monotonic() + args.timeout
    report = _poll(
        args,
        api.dry_run(args.model, args.version, args.to_stage),
        busy=lambda r: r.get("status") in ("queued", "running"),
        refresh=lambda r: api.dry_run_status(r["id"]),
        late=lambda r: f"dry run {r.get('id')} is {r.get('status')}; see {r.get('url')}",
        deadline=deadline,
        json_on_timeout=True,
    )
    if args.json:
        _say(json.dumps(report))
    else:
        _say(*dry_run_lines(report))
    status, verdict = report.get("status"), report.get("verdict")
    where = f"{args.model} v{args.version} {report.get('transition')}"
    if status == "timed_out":
        print(f"govern: dry run of {where} timed out on the worker: {report.get('error')}", file=sys.stderr)
        return TIMED_OUT
    if status == "error":
        raise Failure(f"dry run of {where} could not be computed: {report.get('error')}")
    if verdict == "pass" or (verdict is None and report.get("would_pass")):
        return OK
    print(f"govern: {where} would not pass ({verdict or 'fail'})", file=sys.stderr)
    return FAILED


COMMANDS = {
    "register": cmd_register,
    "upload": cmd_upload,
    "promote": cmd_promote,
    "status": cmd_status,
    "dry-run": cmd_dry_run,
    "import-mlflow": mlflow_import.cmd_import_mlflow,
}


def run(argv: list[str] | None = None) -> int:
    wants_json = "--json" in (argv if argv is not None else sys.argv[1:])
    api = None
    try:
        args = build_parser().parse_args(argv)
        api = Api()
        return COMMANDS[args.command](api, args)
    except Failure as failure:
        if wants_json and failure.exit_code != TIMED_OUT:
            error = failure.error or {"code": "client_error", "message": failure.message, "fields": {}}
            print(json.dumps({"error": error, "exit_code": failure.exit_code}), flush=True)
        print(f"govern: {failure.message}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        print("govern: interrupted", file=sys.stderr)
        return 130
    finally:
        if api is not None:
            api.close()


def main() -> None:
    for stream in (sys.stdout, sys.stderr):  # a CI log with an ASCII locale gets "?" rather than a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    sys.exit(run())


if __name__ == "__main__":
    main()
