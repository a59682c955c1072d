"""``@rpc`` for entrypoints that act for a caller: the first argument must be a
caller assertion (``confide_access.assertions``) issued for this service. The
entrypoint verifies it before any worker runs and hands the method a verified
:class:`Caller`. A refused assertion never reaches the method: the refusal is
committed to the trail (the claimed caller, the operation, why) and the caller
gets :class:`AccessDenied`.

Entrypoints that act for nobody (``health``) use :data:`open_rpc`
(``confide_messaging.rpc``, which this one is made on: one consumer of the
service's queue for both); the service-shape test holds every other entrypoint
to this one.
"""

from __future__ import annotations

import logging
import sys
from functools import partial

from confide_contracts.errors import AccessDenied
from confide_messaging.rpc import Rpc
from confide_messaging.rpc import rpc as open_rpc  # for entrypoints that act for nobody (health)
from confide_messaging.uow import MessagingAccess, UnitOfWorkProvider
from nameko import config
from nameko.extensions import SharedExtension

from confide_access.assertions import CallerRefused, CallerVerifier
from confide_access.events import Action, Caller, Outcome
from confide_access.recorder import clip, record_access

log = logging.getLogger(__name__)

# what a refused call was about to do, from its name (the trail names the operation too)
_VERBS = ((("get_", "list_", "search", "query", "verify", "find", "report", "statement", "check", "day_"),
           Action.READ),
          (("create_", "register_", "add_", "book", "record_", "open_", "invite"), Action.CREATE),
          (("delete_", "remove_", "cancel", "revoke"), Action.DELETE),
          (("sign_",), Action.SIGN),
          (("export",), Action.EXPORT),
          (("disclose",), Action.DISCLOSE))


def action_of(method: str) -> Action:
    for prefixes, action in _VERBS:
        if method.startswith(prefixes):
            return action
    return Action.UPDATE


class CallerKeys(SharedExtension):
    """One verifier per service: public keys from Vault transit (``config["VAULT"]``,
    ``TRANSIT_MOUNT``), audience the service's name."""

    def setup(self) -> None:
        from confide_vault import Transit

        vault = config.get("VAULT")
        if vault is None:
            raise RuntimeError("verifying callers needs Vault: start the service with confide-serve "
                               "(or set VAULT in its config)")
        self.verifier = CallerVerifier(Transit(vault, config.get("TRANSIT_MOUNT", "transit")),
                                       self.container.service_name)


class CallerRpc(Rpc):
    keys = CallerKeys()

    def handle_message(self, body, message):
        if isinstance(body, dict):
            args, kwargs = list(body.get("args") or []), dict(body.get("kwargs") or {})
            try:
                caller = self.keys.verifier.verify(args[0] if args else kwargs.get("caller"))
            except CallerRefused as refusal:
                self.container.spawn_managed_thread(partial(self._refuse, refusal, message),
                                                    identifier=f"refuse[{self.method_name}]")
                return
            if args:
                body = {**body, "args": [caller, *args[1:]]}
            else:
                body = {**body, "kwargs": {**kwargs, "caller": caller}}
        super().handle_message(body, message)

    def _refuse(self, refusal: CallerRefused, message) -> None:
        operation = f"{self.container.service_name}.{self.method_name}"
        claimed = refusal.claimed
        log.warning("refused a call to %s: caller not verified (%s)", operation, refusal.why)
        try:
            self._record(operation, claimed, refusal.why)
        except Exception:
            log.exception("could not record the refused call to %s", operation)
        try:
            raise AccessDenied(f"the caller of {operation} could not be verified")
        except AccessDenied:
            try:
                self.rpc_consumer.handle_result(message, None, sys.exc_info())
            except Exception:  # noqa: BLE001 - no reply_to, a closed channel: the message goes, the service stays
                log.warning("could not answer the refused call to %s; dropped", operation)
                self.rpc_consumer.consumer.ack_message(message)

    def _record(self, operation: str, claimed: dict, why: str) -> None:
        provider = next((d for d in self.container.dependencies if isinstance(d, UnitOfWorkProvider)), None)
        if provider is None:
            return
        access = MessagingAccess(provider.engine, provider.sessions)
        access.producer, access.registry = self.container.service_name, provider.registry
        who = Caller(user_id=clip(str(claimed.get("sub") or claimed.get("user_id") or "unknown"), 200),
                     role="unverified", source_address=None)
        with access() as uow:
            record_access(uow, who, action=action_of(self.method_name), resource_type="Operation",
                          resource_id=operation, outcome=Outcome.DENIED, reason=f"caller not verified: {why}")


rpc = CallerRpc.decorator

__all__ = ["CallerRpc", "open_rpc", "rpc"]
