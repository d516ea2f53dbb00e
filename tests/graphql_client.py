"""A tiny GraphQL-over-HTTP client for tests (real HTTP or in-process ASGI)."""

from __future__ import annotations

from typing import Any

import httpx

ACT = {"number": "202/2025/QH15", "issuer": "Quốc hội", "signedOn": "2025-06-12"}


class GraphQLClient:
    def __init__(self, client: httpx.Client, path: str = "/graphql") -> None:
        self.client = client
        self.path = path

    def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(self.path, json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.raw(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def mutate(self, name: str, input: dict[str, Any], selection: str = "unit { id }") -> dict[str, Any]:
        """Run mutation `name` and return its payload, asserting it was not refused."""
        data = self(f"mutation($input: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $input) "
                    f"{{ {selection} errors {{ code field message }} }} }}", {"input": input})
        payload = data[name]
        assert payload["errors"] == [], payload["errors"]
        return payload  # type: ignore[no-any-return]

    def refused(self, name: str, input: dict[str, Any], selection: str = "unit { id }") -> list[dict[str, Any]]:
        """Run mutation `name` expecting refusal; return its errors."""
        data = self(f"mutation($input: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $input) "
                    f"{{ {selection} errors {{ code field message }} }} }}", {"input": input})
        payload = data[name]
        assert payload["errors"], f"{name} was expected to be refused"
        return payload["errors"]  # type: ignore[no-any-return]
