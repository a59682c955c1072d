from confide_gateway.models import VERSION_TABLE, metadata
from confide_persistence.migrations import run_env

run_env(metadata, VERSION_TABLE)
