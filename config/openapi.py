"""OpenAPI schema generation: document the error responses every API view really gives.

drf-spectacular documents only the success code unless a view says otherwise, but every view here can
also refuse: 403 (not logged in — SessionAuthentication answers 403, not 401 — wrong role, or a
missing CSRF token), 404 (a path object outside the user's tenant, an unknown id in the body, a page
past the end) and 400 (serializer or filter validation). The contract test (SECURITY.md #24,
tests/platform/test_api_contract.py) holds the schema to these codes; codes a view declares itself
(`@extend_schema(responses=...)`) are kept as declared.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    """DRF's refusal body: {"detail": "..."}."""

    detail = serializers.CharField()


class ContractAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        extra: dict[str, Any] = {
            "403": OpenApiResponse(ErrorDetailSerializer, description="Not logged in, wrong role or CSRF failure"),
        }
        has_path_params = "{" in self.path
        paginated = self._is_list_view() and self._get_paginator() is not None
        unsafe = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if has_path_params or paginated or unsafe:
            extra["404"] = OpenApiResponse(
                ErrorDetailSerializer, description="Object not found (or not visible to this user), or no such page"
            )
        if unsafe or (self._is_list_view() and self.method == "GET"):
            # Field errors ({"field": ["..."]}) or a refusal ({"detail": "..."}).
            extra["400"] = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid request")
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
