"""Helpers shared by the test suite: fault routes for LocalServer and the session fixture server."""
