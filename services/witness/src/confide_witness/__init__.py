"""The witness: cosigns a transparency log's checkpoints (C2SP tlog-witness),
each only if it is consistent with the last one it cosigned for that log."""
