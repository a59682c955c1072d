from confide_persistence.migrations import run_env
from persistence_sample import VERSION_TABLE, metadata

run_env(metadata, VERSION_TABLE)
