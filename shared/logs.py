"""One log format for every service: a JSON object per line, with the service named."""

import json
import logging
import sys
from datetime import UTC, datetime

from shared.observability import current_trace_id, need_id_var


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line an operator's log stack can index."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (need_id := need_id_var.get()) is not None:
            entry["need_id"] = need_id
        if (trace_id := current_trace_id()) is not None:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: int = logging.INFO) -> None:
    """Send every log line of this process to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
