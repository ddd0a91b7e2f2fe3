"""Root of the suite: fixtures live in plugins, split by the real part they start."""

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.temporal"]
