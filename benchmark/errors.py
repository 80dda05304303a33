"""Why a benchmark run stopped without a result."""


class BenchmarkFailed(RuntimeError):
    """A phase could not be measured: a service died, or needs never arrived in time."""
