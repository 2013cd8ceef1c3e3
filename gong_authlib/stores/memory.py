"""MemoryTokenStore: tokens in this process only, for tests and short-lived scripts."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from gong_authlib.stores.codec import TokenCodec
from gong_authlib.stores.contracts import TokenStore, check_customer
from gong_authlib.stores.identity import StoreReset
from gong_authlib.stores.intents import RefreshIntent
from gong_authlib.stores.process_local import ProcessLocalRateBudget
from gong_authlib.stores.status import ACTIVE_STATUS, CustomerStatus, new_status
from gong_authlib.token import Token


class MemoryTokenStore(ProcessLocalRateBudget, TokenStore):
    """A dict behind a lock. Tokens are kept serialized, exactly as durable stores keep them,
    so nothing a caller holds can change what is stored."""

    def __init__(
        self, *, encryption_keys: Sequence[str | bytes] = (), migrate_plaintext: bool = False
    ) -> None:
        super().__init__()
        self._codec = TokenCodec(encryption_keys, migrate_plaintext=migrate_plaintext)
        self._data: dict[str, bytes] = {}
        self._status: dict[str, CustomerStatus] = {}
        self._newest: dict[str, float] = {}  # customer -> newest issue time put
        self._leases: dict[str, tuple[str, float]] = {}
        self._states: dict[str, tuple[bytes, float]] = {}  # state hash -> (data, expires_at)
        # customer -> fingerprint -> (stored text, added_at)
        self._webhook_keys: dict[str, dict[str, tuple[str, float]]] = {}
        self._guard = threading.Lock()
        self._intents: dict[str, RefreshIntent] = {}
        self._identity: str | None = None
        self._reset: StoreReset | None = None

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        self._guard = threading.Lock()  # a parent thread may have held it at fork() time

    def __repr__(self) -> str:
        return f"MemoryTokenStore(customers={len(self._data)})"

    def get(self, customer: str) -> Token | None:
        with self._guard:
            raw = self._data.get(check_customer(customer))
        return None if raw is None else self._codec.decode(raw, customer=customer)

    def put(self, customer: str, token: Token) -> None:
        encoded = self._codec.encode(token, customer=check_customer(customer))
        with self._guard:
            self._data[customer] = encoded
            self._status.pop(customer, None)
            self._mark(customer, token.issued_at)
            self._intents.pop(customer, None)

    def delete(self, customer: str) -> bool:
        with self._guard:
            self._status.pop(check_customer(customer), None)
            self._newest.pop(customer, None)
            self._intents.pop(customer, None)
            return self._data.pop(customer, None) is not None

    def _mark(self, customer: str, issued_at: float) -> None:
        """Raise the customer's newest issue time (under ``_guard``)."""
        self._newest[customer] = max(self._newest.get(customer, issued_at), issued_at)

    def newest_issue(self, customer: str) -> float | None:
        with self._guard:
            return self._newest.get(check_customer(customer))

    def status(self, customer: str) -> CustomerStatus:
        with self._guard:
            return self._status.get(check_customer(customer), ACTIVE_STATUS)

    def set_status(
        self,
        customer: str,
        state: str,
        *,
        reason: str | None = None,
        since: float | None = None,
    ) -> None:
        status = new_status(state, reason, since)
        with self._guard:
            if check_customer(customer) in self._data:
                self._status[customer] = status

    def customers(self) -> list[str]:
        with self._guard:
            return sorted(self._data)

    @property
    def location(self) -> str:
        return "memory"

    def _try_lease(self, customer: str, owner: str, lease: float) -> bool:
        now = time.monotonic()
        with self._guard:
            holder = self._leases.get(customer)
            if holder is not None and holder[1] > now:
                return False
            self._leases[customer] = (owner, now + lease)
            return True

    def _renew_lease(self, customer: str, owner: str, lease: float) -> bool:
        with self._guard:
            if self._leases.get(customer, ("", 0.0))[0] != owner:
                return False
            self._leases[customer] = (owner, time.monotonic() + lease)
            return True

    def _release_lease(self, customer: str, owner: str) -> None:
        with self._guard:
            if self._leases.get(customer, ("", 0.0))[0] == owner:
                del self._leases[customer]

    def _put_state(self, key: str, data: bytes, expires_at: float) -> None:
        with self._guard:
            self._states[key] = (data, expires_at)

    def _take_state(self, key: str) -> bytes | None:
        with self._guard:
            entry = self._states.pop(key, None)
        return None if entry is None else entry[0]

    def _purge_states(self, now: float) -> int:
        with self._guard:
            expired = [key for key, (_, expires_at) in self._states.items() if expires_at < now]
            for key in expired:
                del self._states[key]
        return len(expired)

    # -- refresh intents and the store identity (stores/intents.py, stores/identity.py) --

    def open_intent(self, customer: str, intent: RefreshIntent) -> bool:
        with self._guard:
            if check_customer(customer) not in self._data:
                return False
            self._intents[customer] = intent
            return True

    def intent(self, customer: str) -> RefreshIntent | None:
        with self._guard:
            return self._intents.get(check_customer(customer))

    def close_intent(self, customer: str, owner: str) -> None:
        with self._guard:
            held = self._intents.get(check_customer(customer))
            if held is not None and held.owner == owner:
                del self._intents[customer]

    def settle(self, customer: str, token: Token, *, spent: str) -> bool:
        encoded = self._codec.encode(token, customer=check_customer(customer))
        with self._guard:
            held = self._intents.get(customer)
            if held is None or held.spent != spent:
                return False
            self._data[customer] = encoded
            self._status.pop(customer, None)
            del self._intents[customer]
            self._mark(customer, token.issued_at)
            return True

    def store_identity(self) -> str | None:
        return self._identity

    def claim_identity(self, candidate: str) -> str:
        with self._guard:
            if self._identity is None:
                self._identity = candidate
            return self._identity

    def restore(self, customer: str, token: Token) -> bool:
        encoded = self._codec.encode(token, customer=check_customer(customer))
        with self._guard:
            if customer in self._data:
                return False
            self._data[customer] = encoded
            self._mark(customer, token.issued_at)
            return True

    def record_reset(self, reset: StoreReset) -> None:
        self._reset = reset

    def reset_record(self) -> StoreReset | None:
        return self._reset

    def clear_reset(self) -> None:
        self._reset = None

    # -- webhook keys (WebhookKeyRecords) ------------------------------------------------

    def _put_webhook_key(
        self, customer: str, fingerprint: str, stored: str, added_at: float
    ) -> bool:
        with self._guard:
            rows = self._webhook_keys.setdefault(customer, {})
            if fingerprint in rows:
                return False
            rows[fingerprint] = (stored, added_at)
            return True

    def _reseal_webhook_key(self, customer: str, fingerprint: str, stored: str) -> bool:
        with self._guard:
            rows = self._webhook_keys.get(customer, {})
            if fingerprint not in rows:
                return False
            rows[fingerprint] = (stored, rows[fingerprint][1])
            return True

    def _webhook_key_rows(self, customer: str) -> list[tuple[str, str, float]]:
        with self._guard:
            rows = self._webhook_keys.get(customer, {})
            return [(fingerprint, stored, added) for fingerprint, (stored, added) in rows.items()]

    def _delete_webhook_key(self, customer: str, fingerprint: str) -> bool:
        with self._guard:
            return self._webhook_keys.get(customer, {}).pop(fingerprint, None) is not None

    def _webhook_key_owners(self) -> list[str]:
        with self._guard:
            return sorted(customer for customer, rows in self._webhook_keys.items() if rows)
