"""``needs-router bench``: throughput, latency and memory of the pipeline on one machine."""
