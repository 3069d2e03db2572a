"""Parse and validate uploaded evidence files, without Django.

`parse_evidence` reads a file the upload handler has already streamed to disk, checks it
against the rules of its evidence kind (DESIGN.md: predictions, latency and feature tables;
metrics, cost, sbom, licenses, robustness, training_config documents; attachments) and
returns a `ParsedEvidence`. Every problem is an `EvidenceError` whose text names the line
(CSV lines are 1-based file lines, the header is line 1) or row (Parquet, 1-based data
rows), the column and the value. On any error nothing is left in `columnar_dir`.

The modules, bottom up (each imports only the ones above it):

- `errors`: `EvidenceError` and how messages quote values; `parsed`: `ParsedEvidence`.
- `sources`: opening a file (plain, gzip, zip, Parquet), size and ratio limits, UTF-8.
- `arrays`: Arrow arrays to numpy and cell values to numbers or strings.
- `tables`: CSV/Parquet tables, their profile and Parquet copy; `load_columns`, `preview_rows`.
- `licences`, `json_kinds`: document kinds (JSON, YAML, licences CSV).
- `attachments`: any file, described only.
- `dispatch`: `parse_evidence`, which picks one of the above by kind.
"""

from governance.evidence.parsers.dispatch import TABLE_KINDS, parse_evidence
from governance.evidence.parsers.errors import EvidenceError
from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.tables import load_columns, preview_rows

__all__ = [
    "TABLE_KINDS",
    "EvidenceError",
    "ParsedEvidence",
    "load_columns",
    "parse_evidence",
    "preview_rows",
]
