"""Log records as one JSON object per line (LOG_FORMAT=json), with the Temporal context attached.

Workflow and activity loggers of the Temporal SDK put the workflow id, run id and type in the
record (`temporal_workflow`, `temporal_activity`); command outcomes also carry the correlation id.
"""

import json
import logging
from datetime import UTC, datetime

CONTEXT_FIELDS = ("temporal_workflow", "temporal_activity", "correlation_id", "payment_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        document = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            if hasattr(record, field):
                document[field] = getattr(record, field)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)
