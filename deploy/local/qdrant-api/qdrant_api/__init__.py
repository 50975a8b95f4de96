"""A Qdrant-REST-compatible stand-in server for tests and local work (not for production)."""
