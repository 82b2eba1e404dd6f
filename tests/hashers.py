"""A test-speed password hasher: Django's PBKDF2-SHA256 with few iterations.

Its hashes carry the standard `pbkdf2_sha256$<iterations>$...` form, so a worker or server
process started on the production settings (tests/processes.py) still verifies them: the stock
hasher reads the iteration count from the hash itself."""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1_000
