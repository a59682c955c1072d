from confide_persistence.migrations import run_env
from confide_witness.models import VERSION_TABLE, metadata

run_env(metadata, VERSION_TABLE)
