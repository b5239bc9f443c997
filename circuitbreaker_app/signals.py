"""Signals sent by breakers."""

from django.dispatch import Signal

# Sent once per transition by the process that made it, with the keyword
# arguments breaker_name, old_state, new_state (State) and reason (Reason).
state_changed = Signal()
