"""One domain error for every refusal the product explains to a person.

A refusal carries a human message, a machine `code` and the input `fields` it is about
(``{field: [messages]}``). The edges map it once: the API to the JSON error format
(`governance.api.errors`), the browser to form errors (`governance.web.forms.add_domain_error`).
Subclasses name the area a refusal comes from; they add no shape of their own.
"""

from __future__ import annotations

#: HTTP status per error code; any other code is a 400.
CODE_STATUS: dict[str, int] = {
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "invalid_state": 409,
    "duplicate": 409,
    "too_large": 413,
}


class DomainError(ValueError):
    """A refused input or change: the message is shown as is, and nothing was written."""

    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        merged: dict[str, list[str]] = {key: list(value) for key, value in (fields or {}).items()}
        if field:
            merged.setdefault(field, [message])
        self.fields = merged

    @property
    def field(self) -> str | None:
        """The first field the refusal is about, if any."""
        return next(iter(self.fields), None)

    @property
    def http_status(self) -> int:
        return CODE_STATUS.get(self.code, 400)

    def __str__(self) -> str:
        return self.message
