"""A one-node Slurm cluster in a folder, for the tests and for trying ``train --executor slurm``.

Debian's packages (``slurm-wlm``: slurmctld, slurmd and the client commands; ``munge``; and, so
that ``sacct`` answers as on a real cluster, ``slurmdbd`` with ``mariadb-server``) run as the
current user with every file under one folder: a MUNGE key and socket, a MariaDB data folder
(``--skip-grant-tables``, loopback only), ``slurm.conf``/``slurmdbd.conf`` for this host (2 CPUs,
one partition ``engines``) on free ports, state, spool and logs. Nothing under ``/etc`` or
``/run`` is read or written: clients find the cluster through ``SLURM_CONF``
(:attr:`SlurmCluster.env`).

Configured for containers: no cgroups (``ProctrackType=proctrack/linuxproc``,
``TaskPlugin=task/none``, ``JobAcctGatherType=jobacct_gather/none``), ``select/cons_tres`` over
CPUs. submitit reads job states with ``sacct`` (a job that ends without a result, e.g. after
``scancel``, is only seen through it), hence the accounting daemon.

Command line (``.ci/run`` uses ``install``)::

    python tests/engines/slurm_cluster.py install       # apt-get the packages if missing (root)
    python tests/engines/slurm_cluster.py up /tmp/slurm  # start, print SLURM_CONF, stop on Ctrl-C
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Debian packages: the cluster daemons and clients, MUNGE, the accounting daemon and its database.
PACKAGES = ("slurm-wlm", "munge", "slurmdbd", "mariadb-server")
#: The programs the cluster runs (all in those packages).
PROGRAMS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sinfo", "sacct")
PARTITION = "engines"
CPUS = 2
_SBIN = ("/usr/sbin", "/sbin")


def _which(program: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    return shutil.which(program, path=path)


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if _which(p) is None]


def install(say=print) -> str | None:
    """Install :data:`PACKAGES` with apt-get when a program is missing. Returns None when every
    program is there, else one line saying why not and what to install."""
    missing = missing_programs()
    if not missing:
        return None
    what = f"apt-get install {' '.join(PACKAGES)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"needs {', '.join(missing)}: run `{what}` as root (Debian/Ubuntu)"
    say(f"installing {' '.join(PACKAGES)} (missing: {', '.join(missing)})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            return f"`{' '.join(cmd)}` failed ({tail[0]}): run `{what}` as root"
    missing = missing_programs()
    return f"still missing after apt-get: {', '.join(missing)}" if missing else None


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on the loopback right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class ClusterError(RuntimeError):
    pass


@dataclass
class SlurmCluster:
    """The cluster under ``root`` (created; a fresh folder per cluster). :meth:`start` returns
    once ``sinfo`` shows the node idle; :meth:`stop` ends every daemon. Use as a context
    manager, and pass :attr:`env` to the commands (``SLURM_CONF``)."""

    root: Path
    cpus: int = CPUS
    partition: str = PARTITION
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    # ----------------------------------------------------------------------- paths and env

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """What a client needs: ``SLURM_CONF`` (and the daemons' folder on PATH)."""
        path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
        return {"SLURM_CONF": str(self.conf), "PATH": path}

    def log(self, name: str) -> Path:
        return self.root / "log" / f"{name}.log"

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> str:
        """A Slurm client command against this cluster; its stdout."""
        done = subprocess.run(
            list(cmd), env={**os.environ, **self.env}, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if check and done.returncode:
            raise ClusterError(f"{' '.join(cmd)}: {done.stderr.strip() or done.returncode}")
        return done.stdout

    # ----------------------------------------------------------------------- start / stop

    def start(self, timeout: float = 60) -> SlurmCluster:
        missing = missing_programs()
        if missing:
            raise ClusterError(f"missing {', '.join(missing)}: {install.__doc__.split('.')[0]}")
        t0 = time.monotonic()
        for sub in ("etc", "munge", "db", "state", "spool", "log", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "munge", 0o700)
        ctld, slurmd, dbd, mysql = free_ports(4)
        try:
            self._start_munge()
            self._start_mariadb(mysql)
            self._write_conf(ctld, slurmd, dbd, mysql)
            self._spawn("slurmdbd", ["slurmdbd", "-D"])
            self._wait(lambda: _port_open(dbd), "slurmdbd to listen", t0, timeout)
            self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
            self._wait(lambda: _port_open(ctld), "slurmctld to listen", t0, timeout)
            self._spawn("slurmd", ["slurmd", "-D", "-N", self.node])
            self._wait(self._idle, f"node {self.node} idle in sinfo", t0, timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Cancel the jobs, end the daemons (reverse order, waiting for each), then any process
        still carrying this cluster's ``SLURM_CONF`` (a job step, a client): nothing is left."""
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", "--user", str(os.getuid()), check=False)
            deadline = time.monotonic() + 15
            while self.run("squeue", "--noheader", check=False).strip():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        for name in reversed(list(self._procs)):
            proc = self._procs.pop(name)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        pid = self.root / "run" / "munged.pid"
        if pid.is_file():
            try:
                os.kill(int(pid.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
            pid.unlink(missing_ok=True)
        for stray in self._strays():
            try:
                os.kill(stray, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _strays(self) -> list[int]:
        """Processes whose environment holds this cluster's ``SLURM_CONF`` (but this one)."""
        mark = f"SLURM_CONF={self.conf}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----------------------------------------------------------------------- pieces

    def _spawn(self, name: str, cmd: list[str]) -> None:
        out = open(self.log(name + ".out"), "ab")  # noqa: SIM115  (closed with the process)
        exe = _which(cmd[0]) or cmd[0]
        self._procs[name] = subprocess.Popen(
            [exe, *cmd[1:]], env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        out.close()

    def _wait(self, ready, what: str, t0: float, timeout: float) -> None:
        while not ready():
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise ClusterError(f"{name} exited ({proc.returncode}): {self._tail(name)}")
            if time.monotonic() - t0 > timeout:
                raise ClusterError(f"waited {timeout:.0f} s for {what}: {self._tails()}")
            time.sleep(0.2)

    def _tail(self, name: str) -> str:
        lines = []
        for path in (self.log(name), self.log(name + ".out")):
            if path.is_file():
                lines += path.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "(no log)"

    def _tails(self) -> str:
        return "; ".join(f"{n}: {self._tail(n)}" for n in self._procs)

    def _idle(self) -> bool:
        try:
            out = self.run("sinfo", "--noheader", "--Node", "--format=%N %t", check=False)
        except subprocess.TimeoutExpired:
            return False
        return f"{self.node} idle" in out

    def _start_munge(self) -> None:
        d = self.root / "munge"
        key = d / "munge.key"
        if not key.exists():
            key.write_bytes(os.urandom(1024))
            key.chmod(0o600)
        cmd = [
            _which("munged"), f"--key-file={key}", f"--socket={d / 'munge.socket'}",
            f"--pid-file={self.root / 'run' / 'munged.pid'}", f"--log-file={self.log('munged')}",
            f"--seed-file={d / 'munge.seed'}", "--force",
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise ClusterError(f"munged: {done.stderr.strip()}")

    def _start_mariadb(self, port: int) -> None:
        self._spawn(
            "mariadb",
            [
                "mariadbd", "--no-defaults", f"--datadir={self.root / 'db'}",
                f"--user={_user()}", "--skip-grant-tables", "--bind-address=127.0.0.1",
                f"--port={port}", f"--socket={self.root / 'run' / 'mariadb.sock'}",
                f"--pid-file={self.root / 'run' / 'mariadb.pid'}",
                f"--log-error={self.log('mariadb')}", "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=8M", "--skip-log-bin",
            ],
        )  # fmt: skip
        self._wait(lambda: _port_open(port), "MariaDB to listen", time.monotonic(), 30)

    def _write_conf(self, ctld: int, slurmd: int, dbd: int, mysql: int) -> None:
        r, user = self.root, _user()
        socket_ = r / "munge" / "munge.socket"
        self.conf.write_text(
            f"""# one-node cluster for tests (tests/engines/slurm_cluster.py)
ClusterName=engines
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket_},cred_expire=5
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "run" / "slurmctld.pid"}
SlurmdPidFile={r / "run" / "slurmd.pid"}
SlurmctldLogFile={self.log("slurmctld")}
SlurmdLogFile={self.log("slurmd")}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={dbd}
AccountingStoragePass={socket_}
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=1
MinJobAge=300
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        )
        dbd_conf = self.conf.with_name("slurmdbd.conf")
        dbd_conf.write_text(
            f"""AuthType=auth/munge
AuthInfo=socket={socket_}
DbdAddr=127.0.0.1
DbdHost=localhost
DbdPort={dbd}
SlurmUser={user}
PidFile={r / "run" / "slurmdbd.pid"}
LogFile={self.log("slurmdbd")}
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={mysql}
StorageUser={user}
StorageLoc=slurm_acct_db
"""
        )
        dbd_conf.chmod(0o600)


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        reason = install()
        print(reason or f"Slurm test cluster: {', '.join(PROGRAMS)} present")
        return 1 if reason else 0
    if argv[:1] == ["up"]:
        root = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="slurm-"))
        with SlurmCluster(root) as c:
            print(f"cluster up in {c.started_in:.1f} s; in another shell:")
            print(f"  export SLURM_CONF={c.conf} PATH=$PATH:/usr/sbin")
            print("  sinfo; python -m saliency_lib train --profile smoke --executor slurm")
            print("Ctrl-C (or SIGTERM) stops it", flush=True)
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
        return 0
    print(__doc__.split("\n\n")[-1].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
