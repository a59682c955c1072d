"""The answering side of ``bench/rpc.py``, in a process of its own: the same
do-nothing handler served by nameko's RPC and by Confide's."""

from confide_persistence.green import patch

patch()  # before kombu opens sockets

import sys  # noqa: E402

from confide_messaging import rpc as confide_rpc  # noqa: E402
from confide_runtime.heap import freeze_startup_objects  # noqa: E402
from eventlet.hubs import trampoline  # noqa: E402
from nameko import config  # noqa: E402
from nameko import rpc as nameko_rpc  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

CONCURRENT = 50


class NamekoEcho:
    name = "echo_nameko"

    @nameko_rpc.rpc
    def ping(self, payload):
        return payload


class ConfideEcho:
    name = "echo_confide"

    @confide_rpc.rpc
    def ping(self, payload):
        return payload


def serve(amqp_uri: str) -> None:
    with config.patch({"AMQP_URI": amqp_uri, "max_workers": CONCURRENT}):
        containers = [ServiceContainer(cls) for cls in (NamekoEcho, ConfideEcho)]
        for container in containers:
            container.start()
        freeze_startup_objects()  # as confide-serve does once its service has started
        print("ready", flush=True)
        trampoline(sys.stdin.fileno(), read=True)  # until the benchmark closes it (a green wait)
        for container in containers:
            container.stop()


if __name__ == "__main__":
    serve(sys.argv[1])
