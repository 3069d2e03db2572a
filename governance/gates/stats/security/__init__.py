"""Security gate: SBOM, licence, secret and PII checks over plain Python data.

Pure: no Django, no Celery, no file or network I/O, no clock. `gates/runners.py` loads the
evidence (SBOM JSON, licences artifact, text artifacts/configs, feature samples) and calls
`security_gate`. Nothing these checks return ever contains a detected secret or PII value:
values are reported masked by `mask_value`.

Modules, by concern: `sbom` (CycloneDX structure), `licences` (licence policy, SPDX
expressions), `secrets` (credentials with file and line), `pii` (personal data in
feature samples), `findings` (the Finding record and masking) and `gate` (the gate that
combines the checks). This package re-exports what the rest of the project imports.
"""

from __future__ import annotations

from .findings import mask_value
from .gate import security_gate
from .licences import check_licenses
from .pii import PII_FINDINGS_PER_COLUMN, iban_valid, luhn_valid, scan_pii
from .sbom import CYCLONEDX_SCHEMA, check_sbom, components_from_sbom
from .secrets import HEX_ENTROPY_THRESHOLD, base64_entropy_threshold, scan_secrets, shannon_entropy

__all__ = [
    "CYCLONEDX_SCHEMA",
    "HEX_ENTROPY_THRESHOLD",
    "PII_FINDINGS_PER_COLUMN",
    "base64_entropy_threshold",
    "check_licenses",
    "check_sbom",
    "components_from_sbom",
    "iban_valid",
    "luhn_valid",
    "mask_value",
    "scan_pii",
    "scan_secrets",
    "security_gate",
    "shannon_entropy",
]
