"""Pure domain logic of the clinical record: no database, no broker, no Vault."""
