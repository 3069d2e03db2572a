"""`govern import-mlflow`: register a version from an MLflow run (docs/mlflow.md).

Run where the tracking server is reachable (the CI job). The run is read with the MLflow
client (`pip install './client[mlflow]'`, i.e. mlflow-skinny), its evidence artifacts
downloaded to a temporary directory and sent, with the run's tags, params and metrics, to
POST /api/v1/models/{name}/versions/import-mlflow/, which maps them in one transaction.

The logged model is hashed here (its bytes are not sent): a single file's sha256, or for a
directory the sha256 of its `sha256sum` listing (`<sha256>  <relative path>` lines sorted by
path), which anyone can recompute:
    (cd model && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum) | sha256sum
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from govern.api import OK, Api, Failure

MAX_FILES = 90  # the server takes at most 100 parts per request
HTTP_DEFAULTS = {  # an unreachable tracking server fails in seconds, not after MLflow's 7 retries
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}


def add_parser(sub, parents) -> None:
    p = sub.add_parser(
        "import-mlflow", parents=parents, help="register a version from an MLflow run, with its evidence"
    )
    p.add_argument(
        "--tracking-uri", required=True, help="the MLflow tracking URI (http(s)://..., file://..., databricks)"
    )
    p.add_argument("--run-id", required=True, help="the MLflow run to import")
    p.add_argument("--model", required=True, help="the governance model to register the version under")
    p.add_argument("--model-path", default="", help="the run artifact holding the model (default: the logged model)")
    p.add_argument(
        "--kind",
        action="append",
        default=[],
        metavar="PATH=KIND",
        help="map a run artifact to an evidence or document kind (or 'skip'); repeatable",
    )
    p.add_argument("--max-file-mb", type=float, default=500.0, help="artifacts larger than this are not sent (500)")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(exc).__name__


def _kinds(pairs: list[str]) -> dict[str, str]:
    kinds = {}
    for pair in pairs:
        path, sep, kind = pair.rpartition("=")
        if not sep or not path.strip() or not kind.strip():
            raise Failure(f"--kind expects PATH=KIND (e.g. eval/preds.csv=predictions), got {pair!r}")
        kinds[path.strip().strip("/")] = kind.strip()
    return kinds


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(root: Path) -> str:
    """A file's sha256, or a directory's: the sha256 of its sorted `sha256sum` listing."""
    if root.is_file():
        return sha256_file(root)
    files = sorted((p.relative_to(root).as_posix().encode(), p) for p in root.rglob("*") if p.is_file())
    if not files:
        raise Failure(f"the model directory {root.name} holds no files")
    listing = b"".join(sha256_file(p).encode() + b"  " + rel + b"\n" for rel, p in files)
    return hashlib.sha256(listing).hexdigest()


def _framework(model_dir: Path) -> str:
    """'sklearn 1.5.2' from a logged model's MLmodel file, or ''."""
    mlmodel = model_dir / "MLmodel" if model_dir.is_dir() else None
    if mlmodel is None or not mlmodel.is_file():
        return ""
    try:
        import yaml

        flavors = (yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}).get("flavors") or {}
    except Exception:
        return ""
    for name, spec in flavors.items():
        if name != "python_function" and isinstance(spec, dict):
            version = next((str(v) for k, v in spec.items() if k.endswith("_version") and k != "pickled_model"), "")
            return f"{name} {version}".strip()[:100]
    return "python_function" if "python_function" in flavors else ""


class RunReader:
    """Reads one run through MlflowClient; every failure is a one-line `Failure` (exit 2)."""

    def __init__(self, tracking_uri: str):
        self.uri = tracking_uri.strip()
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        local = self._local_store()
        if local is not None:
            if not local.is_dir():
                raise Failure(f"no MLflow file store at {local} (--tracking-uri {self.uri})")
            # Reading an existing file store is what was asked: MLflow 3 refuses file stores
            # unless this is set (it would have written there too).
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise Failure(
                "import-mlflow needs the MLflow client: pip install './client[mlflow]' (or mlflow-skinny)"
            ) from None
        try:
            self.client = MlflowClient(tracking_uri=self.uri)
        except Exception as exc:
            raise Failure(f"cannot open the MLflow tracking store {self.uri}: {_one_line(exc)}") from None

    def _local_store(self) -> Path | None:
        parts = urlsplit(self.uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme == "" and "://" not in self.uri and self.uri not in ("databricks",):
            return Path(self.uri)
        return None

    def get_run(self, run_id: str):
        try:
            return self.client.get_run(run_id)
        except Exception as exc:
            code = getattr(exc, "error_code", "")
            if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                raise Failure(f"no MLflow run {run_id} at {self.uri}") from None
            raise Failure(f"cannot read MLflow run {run_id} from {self.uri}: {_one_line(exc)}") from None

    def experiment_name(self, experiment_id: str) -> str:
        try:
            return self.client.get_experiment(experiment_id).name or ""
        except Exception:
            return ""

    def files(self, run_id: str, path: str | None = None) -> list[tuple[str, int | None, bool]]:
        """(path, size, is_dir) of the artifacts under `path`, recursively (files only)."""
        out = []
        try:
            entries = self.client.list_artifacts(run_id, path)
        except Exception as exc:
            raise Failure(f"cannot list the artifacts of MLflow run {run_id}: {_one_line(exc)}") from None
        for entry in entries:
            if entry.is_dir:
                out.append((entry.path, None, True))
                out += self.files(run_id, entry.path)
            else:
                out.append((entry.path, entry.file_size, False))
        return out

    def download(self, dst: Path, *, run_id: str | None = None, path: str = "", artifact_uri: str = "") -> Path:
        from mlflow.artifacts import download_artifacts

        dst.mkdir(parents=True, exist_ok=True)
        try:
            if artifact_uri:
                local = download_artifacts(artifact_uri=artifact_uri, dst_path=str(dst), tracking_uri=self.uri)
            else:
                local = download_artifacts(run_id=run_id, artifact_path=path, dst_path=str(dst), tracking_uri=self.uri)
        except Exception as exc:
            raise Failure(f"cannot download {path or artifact_uri} of MLflow run: {_one_line(exc)}") from None
        return Path(local)


def _logged_model(reader: RunReader, run) -> tuple[str, str] | None:
    """(model_id, artifact_location) of the one model an MLflow 3 run logged, if any."""
    outputs = getattr(getattr(run, "outputs", None), "model_outputs", None) or []
    ids = list(dict.fromkeys(o.model_id for o in outputs if getattr(o, "model_id", None)))
    if not ids:
        return None
    if len(ids) > 1:
        raise Failure(f"the run logged {len(ids)} models ({', '.join(ids)}): choose one with --model-path")
    try:
        logged = reader.client.get_logged_model(ids[0])
    except Exception as exc:
        raise Failure(f"cannot read the logged model {ids[0]}: {_one_line(exc)}") from None
    return ids[0], logged.artifact_location


def read_run(
    reader: RunReader,
    run_id: str,
    workdir: Path,
    *,
    model_path: str = "",
    kinds: dict[str, str] | None = None,
    max_file_bytes: int = 500 * 1024 * 1024,
) -> tuple[dict, dict[str, Path]]:
    """The `run` object the server expects and the artifact files to send (path -> local file)."""
    run = reader.get_run(run_id)
    info, data = run.info, run.data
    tags = dict(data.tags)
    if not tags.get("mlflow.source.git.commit", "").strip():
        raise Failure(
            f"MLflow run {run_id} has no mlflow.source.git.commit tag (the code hash): run the training "
            "from a git checkout, or mlflow.set_tag('mlflow.source.git.commit', SHA)"
        )
    listing = reader.files(run_id)
    dirs = {p for p, _size, is_dir in listing if is_dir}
    files = {p: size for p, size, is_dir in listing if not is_dir}

    model: dict = {}
    model_path = model_path.strip().strip("/")
    if model_path:
        if model_path not in files and model_path not in dirs:
            raise Failure(f"--model-path {model_path}: no such artifact in MLflow run {run_id}")
    else:
        candidates = sorted(p.rpartition("/")[0] for p in files if p.rpartition("/")[2] == "MLmodel")
        if len(candidates) > 1:
            raise Failure(
                f"the run logged {len(candidates)} models ({', '.join(candidates)}): choose with --model-path"
            )
        if candidates:
            model_path = candidates[0]
    if model_path:
        local = reader.download(workdir / "model", run_id=run_id, path=model_path)
        model = {"uri": f"{info.artifact_uri.rstrip('/')}/{model_path}", "path": model_path}
    else:
        logged = _logged_model(reader, run)
        if logged is None:
            raise Failure(
                f"MLflow run {run_id} logged no model (no MLmodel among its artifacts, no logged model): "
                "name the model's artifact with --model-path PATH"
            )
        model_id, location = logged
        local = reader.download(workdir / "model", artifact_uri=location)
        model = {"uri": location, "model_id": model_id}
    model.update(sha256=tree_sha256(local), framework=_framework(local))

    inside_model = (lambda p: p == model_path or p.startswith(model_path + "/")) if model_path else (lambda p: False)
    send, not_sent = {}, []
    for path, size in sorted(files.items()):
        if inside_model(path):
            continue
        if size is not None and size > max_file_bytes:
            not_sent.append({"path": path, "reason": f"larger than --max-file-mb ({size:,} bytes), not sent"})
        elif len(send) >= MAX_FILES:
            not_sent.append({"path": path, "reason": f"more than {MAX_FILES} artifacts; not sent"})
        else:
            send[path] = reader.download(workdir / "files", run_id=run_id, path=path)

    datasets = []
    for item in getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []:
        ds = item.dataset
        datasets.append(
            {"name": ds.name, "digest": ds.digest, "source_type": ds.source_type, "source": (ds.source or "")[:500]}
        )
    payload = {
        "tracking_uri": reader.uri,
        "run_id": info.run_id,
        "run_name": getattr(info, "run_name", "") or "",
        "experiment_id": info.experiment_id,
        "experiment_name": reader.experiment_name(info.experiment_id),
        "artifact_uri": info.artifact_uri,
        "user_id": info.user_id or "",
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "tags": tags,
        "params": dict(data.params),
        # NaN and infinities are not JSON: sent as null, listed by the server as skipped.
        "metrics": {
            k: (v if v == v and v not in (float("inf"), float("-inf")) else None) for k, v in data.metrics.items()
        },
        "datasets": datasets,
        "model": model,
        "kinds": kinds or {},
        "not_sent": not_sent,
    }
    return payload, send


def import_run(api: Api, model: str, payload: dict, send: dict[str, Path]) -> dict:
    path = Api.model_path(model) + "versions/import-mlflow/"
    return api.create(
        path,
        data={"run": json.dumps(payload)},
        files=lambda: {
            name: (local.name, local.open("rb"), "application/octet-stream") for name, local in send.items()
        },
    )


def cmd_import_mlflow(api: Api, args) -> int:
    kinds = _kinds(args.kind)
    if not args.max_file_mb > 0:
        raise Failure("--max-file-mb must be > 0")
    reader = RunReader(args.tracking_uri)
    workdir = Path(tempfile.mkdtemp(prefix="govern-mlflow-"))
    try:
        payload, send = read_run(
            reader,
            args.run_id,
            workdir,
            model_path=args.model_path,
            kinds=kinds,
            max_file_bytes=int(args.max_file_mb * 1024 * 1024),
        )
        result = import_run(api, args.model, payload, send)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result), flush=True)
        return OK
    lines = [
        f"{result.get('model')} v{result.get('version')} registered from MLflow run {payload['run_id']}"
        + (f" (experiment {payload['experiment_name']})" if payload.get("experiment_name") else ""),
        f"  code {result.get('code_hash')}, model sha256 {result.get('artifact_sha256')}",
    ]
    lines += [f"  evidence  {e['kind']:<18} {e['path']}  sha256 {e['sha256'][:12]}" for e in result.get("evidence", [])]
    lines += [
        f"  queued    {q['kind']:<18} {q['path']}  parsed by a worker: {api.page_url(q['status_url'])}"
        for q in result.get("queued", [])
    ]
    lines += [f"  document  {d['kind']:<18} {d['path']}  r{d['revision']}" for d in result.get("documents", [])]
    lines += [f"  skipped   {s['path']}: {s['reason']}" for s in result.get("skipped", [])]
    page = api.page_url(f"models/{result.get('model')}/v{result.get('version')}/")
    lines.append(f"page: {page}")
    print("\n".join(lines), flush=True)
    return OK
