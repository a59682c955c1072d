"""The scheduling service: sites, rooms, availability, appointments and series,
double booking refused by PostgreSQL itself, licensure checked from a local
projection of credentialing's events."""
