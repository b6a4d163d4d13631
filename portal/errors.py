class Conflict(Exception):
    """Someone else changed the same thing a moment ago: reload and decide again (HTTP 409)."""
