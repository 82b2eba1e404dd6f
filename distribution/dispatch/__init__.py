"""Dispatch runs: planning who is reached, the pump, claiming, sending, retries, rate limit and
send window, and the RQ tasks that drive them."""
