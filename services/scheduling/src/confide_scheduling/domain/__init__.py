"""Pure scheduling logic: local time, slots, series."""
