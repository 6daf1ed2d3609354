"""Command-line shells over the library."""
