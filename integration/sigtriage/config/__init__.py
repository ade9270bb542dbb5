"""Settings and the baseline, loaded once at the edge, validated against their JSON Schemas, passed down."""
