"""Root of the suite: fixtures live in plugins, split by the real part they start."""

from temporalio.runtime import Runtime

from telemetry.runtime import build_runtime

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.temporal"]

# Every client and worker of the suite runs on a runtime whose core logs go through Python's
# logging, as the services' do: pytest captures them, no raw colour codes reach the output, and
# the core warning that cannot concern duban (heartbeat details) is dropped.
Runtime.set_default(build_runtime())
