"""The pure domain: aggregates, events, value objects, rules and errors.

Imports nothing from SQLAlchemy, strawberry or the application (checked by tests/test_architecture.py).
"""
