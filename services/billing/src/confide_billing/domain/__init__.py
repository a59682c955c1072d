"""Pure billing logic: psychotherapy coding, money, sliding scale."""
