"""Read models: bitemporal tables, the projector that fills them, and the temporal queries."""
