"""The GraphQL API (strawberry): a thin layer over the application service and the read models."""
