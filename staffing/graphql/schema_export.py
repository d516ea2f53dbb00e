"""Where the committed SDL lives (a test fails when the schema drifts from it)."""

from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
