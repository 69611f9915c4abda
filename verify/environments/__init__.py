"""Generic checks on a user's own environments (``make verify``): whatever files exist, each is checked."""
