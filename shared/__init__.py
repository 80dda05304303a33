"""What crosses a service boundary: event contracts, topic names, settings and shared adapters."""
