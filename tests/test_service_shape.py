"""Every service has the same shape inside (README, "Layout"): ``service.py``
holds entrypoints only -- no SQL, a table of contents a newcomer can read; a
service that outgrows one page adds classes of entrypoints it is made of, each
held to the same rule -- and
the service's authorization is ``domain/policy.py``, pure functions tested
without a database."""

import ast
import importlib.util
import inspect
from pathlib import Path

import pytest
from confide_runtime.manifest import discover

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[1]
# the gateway grants nothing itself: every decision is the owning service's
NO_POLICY_OF_ITS_OWN = {"gateway"}
SQLALCHEMY_STATEMENTS = {"select", "insert", "update", "delete", "text", "exists", "pg_insert", "func"}
MAX_LINES = 340


def package_dir(manifest) -> Path:
    return Path(importlib.util.find_spec(manifest.service.split(":")[0].rsplit(".", 1)[0]).origin).parent


SERVICES = [m for m in discover()]


def sql_in(source: str) -> list[str]:
    """What in ``source`` speaks SQL: SQLAlchemy's statement builders imported, or a
    connection's ``execute`` called."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlalchemy"):
            found += [f"imports {a.name} from {node.module}" for a in node.names if a.name in SQLALCHEMY_STATEMENTS]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "execute", "exec_driver_sql", "scalars", "scalar"):
            found.append(f"calls .{node.func.attr}() on line {node.lineno}")
    return found


def entrypoint_files(manifest) -> list[Path]:
    """service.py and the modules of the classes of entrypoints the service class is made of."""
    return sorted({Path(inspect.getsourcefile(k)) for k in manifest.service_class().__mro__ if k is not object})


@pytest.mark.parametrize("manifest", SERVICES, ids=[m.name for m in SERVICES])
def test_service_py_is_entrypoints_without_sql(manifest):
    files = entrypoint_files(manifest)
    assert package_dir(manifest) / "service.py" in files
    for path in files:
        source = path.read_text()
        assert sql_in(source) == [], f"{manifest.name}/{path.name} speaks SQL; move it to store.py"
        assert len(source.splitlines()) <= MAX_LINES, f"{manifest.name}/{path.name} is no longer a table of contents"


@pytest.mark.parametrize("manifest", [m for m in SERVICES if m.name not in NO_POLICY_OF_ITS_OWN],
                         ids=[m.name for m in SERVICES if m.name not in NO_POLICY_OF_ITS_OWN])
def test_each_service_has_its_policy_and_store(manifest):
    here = package_dir(manifest)
    assert (here / "domain" / "policy.py").is_file(), f"{manifest.name} has no domain/policy.py"
    assert (here / "store.py").is_file(), f"{manifest.name} has no store.py"
    policy = (here / "domain" / "policy.py").read_text()
    assert sql_in(policy) == [] and "nameko" not in policy and "sqlalchemy" not in policy, \
        f"{manifest.name}'s policy must be pure"


def test_the_check_finds_sql():
    """The check itself can fail: a service.py with a query in it is caught."""
    assert sql_in("from sqlalchemy import select\nconn.execute(select(1))\n") == [
        "imports select from sqlalchemy", "calls .execute() on line 2"]


def unverified_entrypoints(service_class) -> list[str]:
    """RPC entrypoints of ``service_class`` that do not verify their caller
    (only ``health``, which acts for nobody, may)."""
    from confide_access.entrypoint import CallerRpc
    from nameko.rpc import Rpc

    found = []
    for klass in service_class.__mro__:  # with the classes of entrypoints it is made of
        for name, method in vars(klass).items():
            for entrypoint in getattr(method, "nameko_entrypoints", ()):
                if isinstance(entrypoint, Rpc) and not isinstance(entrypoint, CallerRpc) and name != "health":
                    found.append(name)
    return found


def rpc_not_confides(service_class) -> list[str]:
    """RPC entrypoints and clients of ``service_class`` that are nameko's own, not
    ``confide_messaging.rpc``'s: one consumer takes a service's queue, and a
    client publishes without the per-call declare."""
    from confide_messaging import rpc as confide_rpc
    from nameko import rpc as nameko_rpc

    found = []
    for klass in service_class.__mro__:
        for name, value in vars(klass).items():
            for entrypoint in getattr(value, "nameko_entrypoints", ()):
                if isinstance(entrypoint, nameko_rpc.Rpc) and not isinstance(entrypoint, confide_rpc.Rpc):
                    found.append(name)
            if isinstance(value, nameko_rpc.ClusterRpc) and not isinstance(value, confide_rpc._Requests):
                found.append(name)
    return found


@pytest.mark.parametrize("manifest", SERVICES, ids=[m.name for m in SERVICES])
def test_every_rpc_entrypoint_and_client_is_confides(manifest):
    assert rpc_not_confides(manifest.service_class()) == []


def test_the_check_finds_nameko_rpc():
    from nameko.rpc import ClusterRpc, rpc

    class Stock:
        proxy = ClusterRpc()

        @rpc
        def health(self):
            return {}

    assert sorted(rpc_not_confides(Stock)) == ["health", "proxy"]


@pytest.mark.parametrize("manifest", SERVICES, ids=[m.name for m in SERVICES])
def test_every_rpc_entrypoint_verifies_its_caller(manifest):
    assert unverified_entrypoints(manifest.service_class()) == [], \
        f"{manifest.name} answers RPC without a caller assertion; use confide_access.rpc"


def test_the_check_finds_an_unverified_entrypoint():
    from nameko.rpc import rpc

    class Leaky:
        @rpc
        def get_everything(self, caller):
            return caller

    assert unverified_entrypoints(Leaky) == ["get_everything"]

    class MadeOf(Leaky):
        pass

    assert unverified_entrypoints(MadeOf) == ["get_everything"]
