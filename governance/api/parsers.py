"""Request body parsers under the one loading policy (`core.inputs`): a refused body is a
400 JSON error naming its field, before any view or service sees it."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from governance.core.inputs import BODY, InputRefused, check_form, json_loads


class SafeJSONParser(JSONParser):
    """JSON with bounded size, depth and numbers; no NUL, surrogates or duplicate keys."""

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        return json_loads(raw, max_bytes=limit)


class SafeFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form(data.lists())
        return data


class SafeMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except ParseError as exc:  # a malformed multipart body (e.g. headers over Django's limit)
            raise InputRefused(str(exc.detail), field=BODY) from None
        check_form(parsed.data.lists())
        return parsed
