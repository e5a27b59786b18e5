"""AWS SDK clients that never outlive the invocation: explicit timeouts, few retries, the deadline checked.

botocore's defaults (60 s connect and read timeouts, retries on top) would run
far past a 5-second function. Every client the layer and the handlers build
comes from :func:`aws_client`: each attempt is bounded by its connect and read
timeouts, and none starts unless it can finish before the invocation's
deadline, so retries stop there too.

All of a container's clients come from one botocore session (service models
parsed once). Before a SnapStart snapshot, :func:`prepare_clients` loads what
they need without fetching anything; after each restore, :func:`renew_clients`
drops the session and every client built from it, so credentials and
connections made before the snapshot are never used again; each client is
rebuilt on its next call, from the models already in memory.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from seawall.deadline import current_deadline
from seawall.errors import DeadlineExceededError

if TYPE_CHECKING:  # the SDK's types, from the boto3 stubs (the layer ships no stub)
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


@dataclass(frozen=True)
class ClientTimeouts:
    """Seconds to connect and to read, and attempts in all (botocore's standard retry mode)."""

    connect: float = 1.0
    read: float = 3.0
    attempts: int = 3

    @property
    def per_attempt(self) -> float:
        """The longest one attempt can take."""
        return self.connect + self.read


def _refuse_past_deadline(service: str, timeouts: ClientTimeouts) -> Any:
    def before_send(**_: Any) -> None:
        deadline = current_deadline()
        if deadline is not None and not deadline.allows(timeouts.per_attempt):
            # Not a transport error: botocore re-raises it instead of retrying.
            raise DeadlineExceededError(service)

    return before_send


class _Session:
    """The container's botocore session; boto3 is not needed for clients and its import costs ~100 ms of cold start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._loader: Any = None
        self.settings: dict[str, str] = {}

    def get(self) -> Any:
        """The session, created on first use."""
        with self._lock:
            if self._session is None:
                from botocore.session import get_session  # noqa: PLC0415 (functions without AWS calls never load it)

                self._session = get_session()
                for name, value in self.settings.items():
                    self._session.set_config_variable(name, value)
                if self._loader is None:
                    self._loader = self._session.get_component("data_loader")
                else:  # renewed: keep the service models already loaded, nothing else
                    self._session.register_component("data_loader", self._loader)
            return self._session

    def renew(self) -> None:
        """Forget the session (its cached credentials); the next client starts a new one."""
        with self._lock:
            self._session = None


_SESSION = _Session()


class AwsClient:
    """A botocore client for one service, built on first use and rebuilt after :func:`renew_clients`.

    Attribute access goes to the current client, so module-level objects that
    hold one (an inbox, a store) never keep a client from before a restore.
    """

    def __init__(self, service: str, timeouts: ClientTimeouts) -> None:
        self.service = service
        self.timeouts = timeouts
        self._client: Any = None
        self._lock = threading.Lock()
        _CLIENTS.add(self)

    def _create(self, **credentials: str) -> Any:
        from botocore.config import Config  # noqa: PLC0415

        config = Config(
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            retries={"mode": "standard", "total_max_attempts": self.timeouts.attempts},
        )
        return _SESSION.get().create_client(self.service, config=config, **credentials)

    def current(self) -> Any:
        """The botocore client, built now if there is none."""
        with self._lock:
            if self._client is None:
                client = self._create()
                client.meta.events.register("before-send", _refuse_past_deadline(self.service, self.timeouts))
                self._client = client
            return self._client

    def prepare(self) -> None:
        """Load what building the client needs (service model, endpoint rules) without credentials or a network call."""
        self._create(aws_access_key_id="prepare", aws_secret_access_key="prepare").close()  # noqa: S106 (no secret)

    def forget(self) -> None:
        """Drop the client and close its connections; the next call builds another."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never this proxy's own state (copy, pickle, a half-built instance)
            raise AttributeError(name)
        return getattr(self.current(), name)


_CLIENTS: weakref.WeakSet[AwsClient] = weakref.WeakSet()


@overload
def aws_client(service: Literal["dynamodb"], timeouts: ClientTimeouts = ...) -> DynamoDBClient: ...
@overload
def aws_client(service: Literal["events"], timeouts: ClientTimeouts = ...) -> EventBridgeClient: ...
@overload
def aws_client(service: Literal["secretsmanager"], timeouts: ClientTimeouts = ...) -> SecretsManagerClient: ...
@overload
def aws_client(service: Literal["sqs"], timeouts: ClientTimeouts = ...) -> SQSClient: ...
def aws_client(service: str, timeouts: ClientTimeouts = ClientTimeouts()) -> Any:
    """A client for ``service`` whose attempts are bounded by ``timeouts`` and the deadline (built on first call).

    Typed as the service's client: the proxy answers every attribute from one.
    """
    return cast("Any", AwsClient(service, timeouts))


def prepare_clients() -> None:
    """Load what every client made so far needs, fetching nothing (before a SnapStart snapshot).

    Each client is built once with placeholder credentials and thrown away: the
    session keeps the parsed service models and endpoint rules (most of a
    client's cost), and no credentials are resolved, which in Lambda would be
    a call to the credentials endpoint from inside the snapshot hook.
    """
    for client in list(_CLIENTS):
        client.prepare()


def configure_session(*, profile: str | None = None, region: str | None = None) -> None:
    """Give every client from now on this profile and region (for tools; a profile set here beats the environment)."""
    _SESSION.settings = {name: value for name, value in (("profile", profile), ("region", region)) if value}
    renew_clients()


def renew_clients() -> None:
    """A new session and no client from before (after a SnapStart restore: new credentials, new connections)."""
    _SESSION.renew()
    for client in list(_CLIENTS):
        client.forget()
