"""Local stand-ins for the providers: real HTTP servers the real adapters talk to.

Each fixture starts its stub on an ephemeral port, points the matching setting at it for the
test, and stops it afterwards. A test module gets them with

    pytest_plugins = ["tests.stubs.fixtures"]
"""
