"""The staffing ledger of a civil service: event-sourced, bitemporal, served over GraphQL."""

__version__ = "0.1.0"
