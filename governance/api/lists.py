"""Pages and filters of the API's lists: `{count, next, previous, results}` like the audit.

`page` (1-based, or `last`) and `page_size` (1..MAX_PAGE_SIZE, default PAGE_SIZE) are checked
before the query runs: a value that is not a whole number in range, or a page past the end,
is a 400 naming the field (never DRF's 404 "Invalid page").
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from governance.core.errors import DomainError
from governance.evidence.models import EvidenceKind
from governance.registry.models import Stage

MAX_PAGE_SIZE = 500


def _whole(raw: str, field: str, *, low: int, high: int) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and low <= int(raw) <= high):
        problem = f"A whole number from {low} to {high:,}."
        raise DomainError(f"{field}: {problem}", fields={field: [problem]})
    return int(raw)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size or settings.REST_FRAMEWORK.get("PAGE_SIZE", 100)
        return _whole(raw, self.page_size_query_param, low=1, high=self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and raw not in self.last_page_strings:
            _whole(raw, self.page_query_param, low=1, high=999_999_999)
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            pages = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            problem = f"No page {raw}: there are {pages} page(s)."
            raise DomainError(f"page: {problem}", fields={self.page_query_param: [problem]}) from None


def page_response(request, queryset, serializer_class=None, *, render=None) -> Response:
    """One page of `queryset`, serialized (or `render(rows)`), with count, next and previous."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(render(page) if render else serializer_class(page, many=True).data)


def page_of(serializer_class, name: str):
    """The OpenAPI schema of a page of `serializer_class`."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="1-based page number (or `last`)."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description=f"Results per page, 1 to {MAX_PAGE_SIZE}."),
]


class VersionFilterIn(serializers.Serializer):
    """Query-string filters of a model's version list."""

    stage = serializers.ChoiceField(choices=Stage.choices, required=False, allow_blank=True, default="")


class EvidenceFilterIn(serializers.Serializer):
    """Query-string filters of a version's evidence list."""

    kind = serializers.ChoiceField(choices=EvidenceKind.choices, required=False, allow_blank=True, default="")
