"""Abuse limits: who may send, how often, how much, and how many replies at once.

The model:
- Each user has `UserLimits` (messages per minute, replies at once, tokens per day; 0 = no
  limit): the server defaults `AI_CHAT_LIMIT_*`, each overridden per user by an admin
  (`limits_for(user)` reads the `User` row's nullable columns).
- `Quotas` (one per worker, owned by the GenerationService) enforces them where the work is
  done, in `GenerationService.run`, before the user turn is stored: a forged event meets
  the same limits as the UI. A refused turn stores nothing and reaches nobody; it ends
  like any unsaved turn (the text goes back into the box, a toast says why and when).
  Per turn start: the reply's slots (one Redis script), the day's tokens and the message
  count (one script each; one more script takes a conversation the turn created); when
  the reply ends its tokens are counted and its slots released (two commands). Nothing
  per token; each worker refreshes its replies' slot leases in one script every 5 s.
  Measured by `python -m benchmarks.limits_cost`.
- Counting in time windows is the `limits` package's (moving window for messages and
  sign-ins, sliding window counter for tokens, which can't keep one entry per token), in
  Redis when `redis_url` is set so that all workers share the counts, else in memory.
  Replies at once are slots with leases (`slots`): `limits` has no semaphore.
- Tokens counted are what Claude processed for the reply: input, cache writes and output
  (cache reads are left out, as in Anthropic's own rate limits); a stopped reply's output
  is the estimate it is stored with.
- Failed sign-ins are throttled per account and per address (`signin`).
- Redis down: see `Quotas` (each limit falls back to this worker's memory).
"""

from ai_chat.limits.quotas import Quotas, Refused
from ai_chat.limits.refusal import Refusal, signin_wait_message, wait_words
from ai_chat.limits.user_limits import UNLIMITED, UserLimits, limits_for

__all__ = [
    "UNLIMITED",
    "Quotas",
    "Refusal",
    "Refused",
    "UserLimits",
    "limits_for",
    "signin_wait_message",
    "wait_words",
]
