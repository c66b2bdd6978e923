"""The permission to read Temporal payloads in plain text through the codec endpoint."""

from django.db import models


class TemporalPayloadAccess(models.Model):
    """No table: it only carries `eventstore.decode_temporal_payloads`, given to the operators who may
    read workflow inputs and results in the Temporal UI or CLI (eventstore/web/codec_server.py)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("decode_temporal_payloads", "Can read Temporal payloads in plain text through the codec endpoint"),
        ]
        verbose_name = "Temporal payload access"
