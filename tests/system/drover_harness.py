"""Helpers for drover's system tests: processes, polling, and one Cluster class.

A Cluster is one master and its workers, run either on loopback in the root
network namespace (mode "loopback") or across a bridge between network
namespaces the test creates (mode "netns").  Both modes offer the same
methods, so a test reads the same in either:

    cluster.cli(*args, check=True)            -> CompletedProcess (text)
    cluster.api(method, path, body=None, token=ADMIN) -> (status, parsed body)
    cluster.start_worker(name) / kill_worker(name, sig)
    cluster.restart_master()
    cluster.link_down(name) / link_up(name)   (netns mode only)
    cluster.wait_nodes(lambda nodes: ..., timeout)

Rules kept here so the tests need not repeat them: every process is started
in its own session (so its whole process group can be killed), its stdout and
stderr go to files in the test's tmp dir (tails shown when a test fails), we
wait by polling a condition against a deadline and never assert timings, and
close() removes every process and namespace the cluster made, whatever
happened before.
"""

import ctypes
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

DEFAULT_BIN = "/work/main/build/drover"
# The production default, 1 s. Shorter intervals flapped nodes when the
# whole suite ran under the sanitizers on two shared cores: a worker of the
# sanitizer build was seen silent for 1.25 s (2.5 intervals of 500 ms) in
# the middle of a plain stop, while every process of the suite wrote and
# fsynced. Tests about detection itself set heartbeat_ms explicitly.
HEARTBEAT_MS = 1000
# Generous: the machine is shared and has two cores.
TIMEOUT = 20
CMD_TIMEOUT = 60

ADMIN = object()  # sentinel: "use the cluster's admin token"

_counter = itertools.count(1)


def drover_bin():
    return os.environ.get("DROVER_BIN", DEFAULT_BIN)


def unique_tag():
    """A short tag unique to this test run: pid and a per-process counter."""
    return "%05d%d" % (os.getpid() % 100000, next(_counter))


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    return free_ports(1)[0]


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1.  The sockets stay bound until
    all are chosen: one port asked for twice in a row may come back twice."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until(fn, timeout=TIMEOUT, interval=0.1, desc=None, fail_if=None):
    """Poll fn() until it returns something truthy; return that value.

    fail_if, if given, is called each round and may raise (e.g. "the master
    died") to stop waiting early.  On timeout raise AssertionError naming the
    condition and the last value or exception seen."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if fail_if is not None:
            fail_if()
        try:
            value = fn()
            last = value
            if value:
                return value
        except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s; last: %r"
                                 % (timeout, desc or getattr(fn, "__name__", "condition"), last))
        time.sleep(interval)


def tail(path, lines=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no file %s)\n" % path


def read_text(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def kill_group(popen, sig=signal.SIGTERM, grace=10):
    """Signal the process group led by popen (we started it with a new
    session), wait for the leader, escalate to SIGKILL after grace seconds."""
    if popen.poll() is None:
        try:
            os.killpg(popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group (leader or children) goes now.
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        popen.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass


def run(argv, input=None, env=None, timeout=CMD_TIMEOUT, check=False):
    """Run a short command in its own session; on timeout kill its group.
    Returns a CompletedProcess with text stdout/stderr."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p, signal.SIGKILL, grace=5)
        out, err = p.communicate()
        raise AssertionError("command timed out after %ss: %s\nstdout:\n%s\nstderr:\n%s"
                             % (timeout, " ".join(argv), out, err))
    finally:
        # A well-behaved CLI leaves nothing behind, but never leak a group.
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    cp = subprocess.CompletedProcess(argv, p.returncode, out, err)
    if check and cp.returncode != 0:
        raise AssertionError("command failed (status %d): %s\nstdout:\n%s\nstderr:\n%s"
                             % (cp.returncode, " ".join(argv), out, err))
    return cp


def sh(*argv):
    """Run a plumbing command (ip ...), raising with its stderr on failure."""
    cp = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, timeout=CMD_TIMEOUT)
    if cp.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), cp.returncode, cp.stderr.strip()))
    return cp.stdout


def ipv4_of(address):
    """The IPv4 address inside a node's "address" field ("10.0.0.2:5555",
    "tcp://10.0.0.2:5555" or "10.0.0.2"), or None."""
    m = re.search(r"(\d{1,3}(?:\.\d{1,3}){3})", str(address or ""))
    return m.group(1) if m else None


def events(c, query=""):
    """GET /v1/events[query] of cluster c: the list of events, oldest first."""
    status, body = c.api("GET", "/v1/events" + query)
    assert status == 200 and isinstance(body, list), ("GET /v1/events%s" % query, status, body)
    return body


def detail_events(evs, name):
    """The events whose detail names event `name` ("rescheduled", ...)."""
    return [e for e in evs if (e.get("detail") or {}).get("event") == name]


def by_name(nodes):
    return {n.get("name"): n for n in nodes}


def processes_mentioning(needle):
    """PIDs (other than ours) whose /proc/PID/cmdline contains needle."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmd:
            found.append((int(entry), cmd.strip()))
    return found


_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_socket(ns, family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0):
    """A socket that lives in network namespace ns (None: ours).  setns()
    moves only the calling thread, so a throwaway thread enters ns and makes
    the socket; the socket stays in ns whichever thread uses it."""
    if ns is None:
        return socket.socket(family, type, proto)
    out = {}

    def make():
        try:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, "setns %s: %s" % (ns, os.strerror(err)))
            finally:
                os.close(fd)
            out["sock"] = socket.socket(family, type, proto)
        except BaseException as e:  # handed to the caller
            out["error"] = e
    t = threading.Thread(target=make, name="setns-" + ns)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


def netns_connect(ns, host, port, timeout=10):
    """A TCP connection to host:port made from inside namespace ns."""
    s = netns_socket(ns)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s



def worker_state_apps(worker_dir):
    """The apps a worker's state file and its journal list (what a
    restarted worker on that dir would adopt), as their JSON entries;
    [] when there is no readable state file."""
    try:
        with open(os.path.join(worker_dir, "worker-state.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    apps = {a.get("id"): a for a in doc.get("apps", []) if isinstance(a, dict)}
    try:
        with open(os.path.join(worker_dir, "worker-state.journal")) as f:
            lines = f.read().split("\n")
    except OSError:
        lines = []
    try:
        head = json.loads(lines[0]) if lines else {}
    except ValueError:
        head = {}
    if head.get("generation") != doc.get("generation", 0):
        lines = []
    for line in lines[1:]:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "forget" in entry:
            apps.pop(entry["forget"], None)
        elif "id" in entry:
            apps[entry["id"]] = entry
    return list(apps.values())

class NetnsHTTPConnection(http.client.HTTPConnection):
    """http.client over a socket made inside a network namespace."""

    def __init__(self, ns, host, port, timeout=10):
        super().__init__(host, port, timeout=timeout)
        self.ns = ns

    def connect(self):
        self.sock = netns_connect(self.ns, self.host, self.port, self.timeout)


def _without_markers(text):
    return "".join(l for l in text.splitlines(True) if not l.startswith("---- start: "))


class Proc:
    """One long-running process of ours, its output in files."""

    def __init__(self, name, argv, logdir, env=None):
        self.name = name
        self.argv = argv
        # Restarts append to the same files, marked, so the history stays readable.
        self.stdout_path = os.path.join(logdir, name + ".stdout")
        self.stderr_path = os.path.join(logdir, name + ".stderr")
        for path in (self.stdout_path, self.stderr_path):
            with open(path, "a") as f:
                f.write("---- start: %s\n" % " ".join(argv))
        self._out = open(self.stdout_path, "a")
        self._err = open(self.stderr_path, "a")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=self._err, env=env, start_new_session=True)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    @property
    def returncode(self):
        return self.popen.poll()

    def output(self):
        """Everything it printed so far, stdout then stderr."""
        return self.stdout() + self.stderr()

    # Our own "---- start:" marker lines (they hold argv, tokens included)
    # are left out, so a test never matches its own command line.
    def stdout(self):
        return _without_markers(read_text(self.stdout_path))

    def stderr(self):
        return _without_markers(read_text(self.stderr_path))

    def wait_exit(self, timeout=TIMEOUT):
        """Wait (polling) for it to exit on its own; return its status."""
        wait_until(lambda: self.popen.poll() is not None, timeout,
                   desc="%s to exit" % self.name)
        return self.popen.returncode

    def send_signal(self, sig):
        if self.alive():
            os.killpg(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, grace=10):
        kill_group(self.popen, sig, grace)
        self._out.close()
        self._err.close()

    def describe(self, lines=40):
        state = "running" if self.alive() else "exited %s" % self.popen.returncode
        if self.alive():
            # Where it is: a hung daemon shows what it waits in.
            state += ", %s" % proc_wait_state(self.pid)
        return ("== %s (pid %d, %s)\n-- stdout:\n%s-- stderr:\n%s"
                % (self.name, self.pid, state, tail(self.stdout_path, lines),
                   tail(self.stderr_path, lines)))


# Run inside the master's namespace to make one REST call; prints one JSON line.
_NETNS_HTTP = r"""
import json, sys, urllib.request, urllib.error
method, url, body, token = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
data = body.encode() if body else None
req = urllib.request.Request(url, data=data, method=method)
if token:
    req.add_header("Authorization", "Bearer " + token)
if data is not None:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        out = {"status": r.status, "body": r.read().decode(errors="replace")}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "body": e.read().decode(errors="replace")}
except Exception as e:
    out = {"status": None, "error": repr(e)}
print(json.dumps(out))
"""


class Cluster:
    """One drover master and its workers.  See the module docstring."""

    def __init__(self, tmpdir, mode="loopback", heartbeat_ms=HEARTBEAT_MS,
                 join_secret=None, admin_token=None, name="c"):
        assert mode in ("loopback", "netns")
        self.bin = drover_bin()
        self.mode = mode
        self.name = name
        self.heartbeat_ms = heartbeat_ms
        self.join_secret = join_secret
        self.admin_token_arg = admin_token
        self.tmpdir = str(tmpdir)
        self.logdir = os.path.join(self.tmpdir, name + "-logs")
        self.state_dir = os.path.join(self.tmpdir, name + "-state")
        os.makedirs(self.logdir, exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        self.master = None
        self.workers = {}        # name -> Proc (latest)
        self.old_procs = []      # procs replaced by a restart, kept for logs
        self.worker_dirs = {}    # name -> dir
        self.namespaces = []     # netns names we created, master's first
        self.token = None
        self.admin_token = None
        self.app_procs = {}      # pid -> /proc starttime of every app seen
        self.daemon_env = None   # environment of the master and workers (None: ours)
        tag = unique_tag()
        self.tag = tag
        if mode == "loopback":
            self.master_host = "127.0.0.1"
            self.bind_port, self.api_port = free_ports(2)
            self.master_ns = None
        else:
            # Namespace-local addresses and ports: nothing leaks to the host.
            self.subnet = 10 + (int(tag) % 240)
            self.master_host = "10.213.%d.1" % self.subnet
            self.bind_port = 7400
            self.api_port = 7401
            self.master_ns = "drvm" + tag
            self.bridge = "br" + tag
            self.worker_ns = {}      # name -> ns
            self.worker_if = {}      # name -> interface inside the worker ns
            self.worker_port = {}    # name -> its peer, the bridge port in the master ns
            self.worker_ip = {}      # name -> address
            self._build_master_ns()
        self.api_url = "http://127.0.0.1:%d" % self.api_port
        self.join_addr = "%s:%d" % (self.master_host, self.bind_port)

    # ---- network namespaces -------------------------------------------------

    def _build_master_ns(self):
        sh("ip", "netns", "add", self.master_ns)
        self.namespaces.append(self.master_ns)
        ns = self.master_ns
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "add", self.bridge, "type", "bridge")
        # A bridge takes the lowest MAC of its ports unless given one: a
        # port added or removed (the fault rig's relay) would change the
        # master's MAC under the workers' ARP caches, and cut every worker
        # off for as long as those take to expire (about a minute).
        sh("ip", "-n", ns, "link", "set", self.bridge, "address",
           "02:00:0a:d5:%02x:01" % (self.subnet % 256))
        sh("ip", "-n", ns, "addr", "add", self.master_host + "/24", "dev", self.bridge)
        sh("ip", "-n", ns, "link", "set", self.bridge, "up")

    def _build_worker_ns(self, name):
        i = len(self.worker_ns) + 1
        ns = "drvw%s_%d" % (self.tag, i)
        sh("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        inner = "e%sw%d" % (self.tag, i)     # the worker's end
        outer = "v%sw%d" % (self.tag, i)     # the bridge's end, in the master ns
        assert len(inner) <= 15 and len(outer) <= 15
        ip = "10.213.%d.%d" % (self.subnet, 10 + i)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        # Created inside the master ns with its peer placed straight into the
        # worker ns: neither end ever exists in the root namespace.
        sh("ip", "-n", self.master_ns, "link", "add", outer, "type", "veth",
           "peer", "name", inner, "netns", ns)
        sh("ip", "-n", self.master_ns, "link", "set", outer, "master", self.bridge)
        sh("ip", "-n", self.master_ns, "link", "set", outer, "up")
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", inner)
        sh("ip", "-n", ns, "link", "set", inner, "up")
        self.worker_ns[name] = ns
        self.worker_if[name] = inner
        self.worker_port[name] = outer
        self.worker_ip[name] = ip

    def _in_ns(self, ns, argv):
        return ["ip", "netns", "exec", ns] + argv if ns else argv

    def link_down(self, name):
        assert self.mode == "netns", "link_down needs a netns cluster"
        sh("ip", "-n", self.worker_ns[name], "link", "set", self.worker_if[name], "down")

    def link_up(self, name):
        assert self.mode == "netns", "link_up needs a netns cluster"
        sh("ip", "-n", self.worker_ns[name], "link", "set", self.worker_if[name], "up")

    # ---- master --------------------------------------------------------------

    def master_argv(self):
        argv = [self.bin, "master", "--bind", self.join_addr,
                "--api", "127.0.0.1:%d" % self.api_port,
                "--state", self.state_dir, "--heartbeat", str(self.heartbeat_ms)]
        if self.join_secret:
            argv += ["--join-token", self.join_secret]
        if self.admin_token_arg:
            argv += ["--admin-token", self.admin_token_arg]
        return argv

    def _check_master_alive(self):
        if self.master is not None and not self.master.alive():
            raise AssertionError("master exited with status %s\n%s"
                                 % (self.master.returncode, self.master.describe()))

    def start_master(self, timeout=TIMEOUT):
        """Start the master and wait until it answers /healthz and has
        written its tokens; read them."""
        assert self.master is None or not self.master.alive(), "master already running"
        if self.master is not None:
            self.old_procs.append(self.master)
        self.master = Proc(self.name + "-master", self._in_ns(self.master_ns, self.master_argv()),
                           self.logdir, env=self.daemon_env)
        join_path = os.path.join(self.state_dir, "join.token")
        admin_path = os.path.join(self.state_dir, "admin.token")
        wait_until(lambda: os.path.exists(join_path) and os.path.exists(admin_path)
                   and read_text(join_path).strip() and read_text(admin_path).strip(),
                   timeout, desc="master to write join.token and admin.token",
                   fail_if=self._check_master_alive)
        wait_until(lambda: self.api("GET", "/healthz", token=None)[0] == 200, timeout,
                   desc="master /healthz to answer 200", fail_if=self._check_master_alive)
        self.token = read_text(join_path).strip()
        self.admin_token = read_text(admin_path).strip()
        return self.master

    def stop_master(self, sig=signal.SIGTERM, timeout=TIMEOUT):
        """Signal the master and wait for it to exit; return its status."""
        self.master.send_signal(sig)
        try:
            status = self.master.wait_exit(timeout)
        finally:
            self.master.stop(signal.SIGKILL)
        return status

    def restart_master(self, timeout=TIMEOUT):
        """Stop the master with SIGTERM (asserting exit 0) and start it again
        with the same state dir and ports."""
        status = self.stop_master(signal.SIGTERM, timeout)
        assert status == 0, "master exited %s on SIGTERM\n%s" % (status, self.master.describe())
        return self.start_master(timeout)

    def join_line(self):
        """The `drover worker --join HOST:PORT --token TOKEN` line the
        (latest) master printed, or None."""
        for line in self.master.stdout().splitlines():
            if "drover worker --join" in line:
                return line.strip()
        return None

    # ---- workers -------------------------------------------------------------

    def start_worker(self, name, token=None, dir=None, extra_args=()):
        """Start (or restart) worker `name`; its dir defaults to one per
        name, so a restart reuses its key (and adopts the apps its last
        process left running).  extra_args go at the end of its command
        line.  Returns its Proc; does not wait."""
        if self.mode == "netns" and name not in self.worker_ns:
            self._build_worker_ns(name)
        if dir is None:
            dir = self.worker_dirs.get(name) or os.path.join(self.tmpdir, "%s-worker-%s" % (self.name, name))
        self.worker_dirs.setdefault(name, dir)
        os.makedirs(dir, exist_ok=True)
        argv = [self.bin, "worker", "--join", self.join_addr,
                "--token", token if token is not None else self.token,
                "--name", name, "--dir", dir] + list(extra_args)
        ns = self.worker_ns.get(name) if self.mode == "netns" else None
        key = name
        if key in self.workers:
            if self.workers[key].alive():
                # A second process under the same name (a test of refusal):
                # keep both, give the newcomer its own log files.
                key = "%s#%d" % (name, len(self.old_procs) + 1)
            else:
                self.old_procs.append(self.workers[key])
        proc = Proc("%s-worker-%s" % (self.name, key.replace("#", "-")), self._in_ns(ns, argv), self.logdir,
                    env=self.daemon_env)
        self.workers[key] = proc
        return proc

    def kill_worker(self, name, sig=signal.SIGKILL):
        """Signal worker `name`'s process group and wait for it to be gone."""
        proc = self.workers[name]
        proc.send_signal(sig)
        proc.wait_exit()
        return proc.returncode

    def wait_ready(self, *names, timeout=TIMEOUT):
        """Wait until every named node is listed and ready; return the nodes."""
        def ok(nodes):
            d = by_name(nodes)
            return all(n in d and d[n].get("state") == "ready" for n in names)
        return self.wait_nodes(ok, timeout, desc="nodes %s ready" % (", ".join(names)))

    # ---- talking to the master -----------------------------------------------

    def cli_env(self, api=True, token=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DROVER_")}
        if api:
            env["DROVER_API"] = self.api_url
        if token:
            env["DROVER_TOKEN"] = self.admin_token or ""
        return env

    def cli(self, *args, check=True, input=None, env=None, timeout=CMD_TIMEOUT):
        """Run `drover ARGS` against this master (DROVER_API/DROVER_TOKEN set
        in the environment unless env is given), inside the master's
        namespace in netns mode."""
        argv = self._in_ns(self.master_ns, [self.bin] + [str(a) for a in args])
        return run(argv, input=input, env=env if env is not None else self.cli_env(),
                   timeout=timeout, check=check)

    def api(self, method, path, body=None, token=ADMIN, timeout=10):
        """One REST call; returns (status, parsed JSON body, or the raw text
        if it is not JSON).  token=None sends no Authorization header.
        Raises OSError if the master cannot be reached (TimeoutError if it
        does not answer within timeout seconds, loopback mode)."""
        if token is ADMIN:
            token = self.admin_token
        data = json.dumps(body) if body is not None else ""
        url = self.api_url + path
        if self.mode == "loopback":
            req = urllib.request.Request(url, data=data.encode() if data else None, method=method)
            if token:
                req.add_header("Authorization", "Bearer " + token)
            if data:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    status, text = r.status, r.read().decode(errors="replace")
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode(errors="replace")
        else:
            cp = subprocess.run(["ip", "netns", "exec", self.master_ns, "/usr/bin/python3", "-c",
                                 _NETNS_HTTP, method, url, data, token or ""],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                timeout=CMD_TIMEOUT)
            if cp.returncode != 0:
                raise OSError("REST helper failed: %s" % cp.stderr.strip())
            out = json.loads(cp.stdout.strip().splitlines()[-1])
            if out.get("status") is None:
                raise OSError("cannot reach %s: %s" % (url, out.get("error")))
            status, text = out["status"], out["body"]
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return status, parsed

    def rest(self, method, path, body=None, timeout=10):
        """One REST call made in-process (from inside the master's namespace
        in netns mode: no helper process, so it is quick enough for a load
        loop).  Returns (status, parsed JSON or text); raises OSError or
        http.client.HTTPException when the master does not answer."""
        conn = NetnsHTTPConnection(self.master_ns, "127.0.0.1", self.api_port, timeout)
        try:
            headers = {"Authorization": "Bearer " + (self.admin_token or "")}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode(errors="replace")
        finally:
            conn.close()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def nodes(self):
        status, body = self.api("GET", "/v1/nodes")
        if status != 200 or not isinstance(body, list):
            raise ValueError("GET /v1/nodes -> %s %r" % (status, body))
        return body

    def wait_nodes(self, pred, timeout=TIMEOUT, desc=None):
        """Poll GET /v1/nodes until pred(nodes) holds; return the nodes."""
        __tracebackhide__ = True
        last = {}

        def check():
            nodes = self.nodes()
            last["nodes"] = nodes
            return nodes if pred(nodes) else None
        try:
            return wait_until(check, timeout, interval=0.1, desc=desc or "nodes condition",
                              fail_if=self._check_master_alive)
        except AssertionError as e:
            raise AssertionError("%s\nlast nodes: %s"
                                 % (e, json.dumps(last.get("nodes"), indent=1))) from None


    # ---- apps ------------------------------------------------------------------

    def track_app(self, app):
        """Remember an app's PID (and its start time, so a recycled PID is
        never killed) for kill_leftover_apps().  Returns app."""
        pid = app.get("pid") if isinstance(app, dict) else None
        if isinstance(pid, int) and pid > 0 and pid not in self.app_procs:
            start = proc_starttime(pid)
            if start is not None:
                self.app_procs[pid] = start
        return app

    def kill_apps_in_worker_dirs(self):
        """SIGKILL the apps that outlive their workers (a stopped worker's
        apps run on under the node's supervisor), as each worker's state
        file lists them, matched by PID and start time; the supervisor then
        exits.
        Returns the PIDs killed."""
        killed = []
        for d in self.worker_dirs.values():
            for a in worker_state_apps(d):
                pid, start = a.get("pid"), a.get("start")
                if not isinstance(pid, int) or pid <= 1 or not start:
                    continue
                if proc_starttime(pid) != start:
                    continue
                kill_app_group(pid)
                killed.append(pid)
        return killed

    def app_pids(self, name):
        """The processes worker name runs (worker_app_pids)."""
        return worker_app_pids(self.workers[name].pid, self.worker_dirs[name])

    def kill_supervisors(self):
        """SIGKILL the supervisors of this cluster's workers still running
        (each exits by itself once no worker and no app is left; this is
        for a test that failed half way)."""
        for d in self.worker_dirs.values():
            pid = supervisor_of(d)
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def kill_leftover_apps(self):
        """SIGKILL every tracked app process (and its process group) that is
        still the process we saw; return the PIDs killed."""
        killed = []
        for pid, start in list(self.app_procs.items()):
            if proc_starttime(pid) != start:
                continue
            kill_app_group(pid)
            killed.append(pid)
        return killed

    def launch(self, node, path, args=(), expect=201, **fields):
        """POST /v1/apps; assert the status (201 unless told) and return the
        parsed body.  Extra fields: env (dict), cwd, name, log_max, log_keep."""
        body = dict(fields, node=node, path=path, args=[str(a) for a in args])
        status, reply = self.api("POST", "/v1/apps", body)
        assert status == expect, "POST /v1/apps %r -> %s %r" % (body, status, reply)
        if isinstance(reply, dict):
            self.track_app(reply.get("app", reply))
        return reply

    def apps(self):
        """GET /v1/apps (every app, live or dead), PIDs tracked."""
        status, body = self.api("GET", "/v1/apps")
        if status != 200 or not isinstance(body, list):
            raise ValueError("GET /v1/apps -> %s %r" % (status, body))
        for a in body:
            self.track_app(a)
        return body

    def app(self, app_id):
        status, body = self.api("GET", "/v1/apps/" + app_id)
        if status != 200 or not isinstance(body, dict):
            raise ValueError("GET /v1/apps/%s -> %s %r" % (app_id, status, body))
        return self.track_app(body)

    def wait_app(self, app_id, pred, timeout=TIMEOUT, desc=None):
        """Poll GET /v1/apps/ID until pred(app) holds; return the app."""
        __tracebackhide__ = True
        return wait_until(lambda: (lambda a: a if pred(a) else None)(self.app(app_id)),
                          timeout, desc=desc or "app %s condition" % app_id,
                          fail_if=self._check_master_alive)

    def wait_state(self, app_id, *states, timeout=TIMEOUT):
        """Wait until the app's state is one of states; return the app."""
        return self.wait_app(app_id, lambda a: a.get("state") in states, timeout,
                             desc="app %s in state %s" % (app_id, "/".join(states)))

    def wait_dead(self, app_id, timeout=TIMEOUT):
        return self.wait_state(app_id, "dead", timeout=timeout)

    def logs(self, app_id, tail=None):
        """GET /v1/apps/ID/logs[?tail=N] as text."""
        path = "/v1/apps/%s/logs" % app_id + ("?tail=%d" % tail if tail is not None else "")
        status, body = self.api("GET", path)
        if status != 200:
            raise ValueError("GET %s -> %s %r" % (path, status, body))
        return body if isinstance(body, str) else json.dumps(body)

    # ---- teardown and diagnostics --------------------------------------------

    def all_procs(self):
        procs = list(self.old_procs) + list(self.workers.values())
        if self.master is not None:
            procs.append(self.master)
        return procs

    def describe(self, lines=40):
        out = ["#### cluster %s (%s) api=%s join=%s" % (self.name, self.mode, self.api_url, self.join_addr)]
        seen = set()
        # Newest first: a restarted worker's process, not its dead one,
        # describes the log files they share.
        for p in reversed(self.all_procs()):
            if p.stdout_path in seen:
                continue
            seen.add(p.stdout_path)
            out.append(p.describe(lines))
        return "\n".join(out)

    def close(self):
        """Stop every process (workers first) and delete every namespace.
        Apps that outlived their worker (SIGKILLed workers leave them
        running) are killed by PID, with their process groups."""
        errors = []
        if self.master is not None and self.master.alive():
            try:
                self.apps()      # remember every app's PID before stopping
            except Exception:
                pass
        for p in list(self.workers.values()) + list(self.old_procs) + ([self.master] if self.master else []):
            try:
                p.stop(signal.SIGTERM, grace=10)
            except Exception as e:  # keep cleaning up
                errors.append(repr(e))
        self.kill_leftover_apps()
        self.kill_apps_in_worker_dirs()
        self.kill_supervisors()
        # Deleting the master ns takes the bridge and every veth with it.
        for ns in reversed(self.namespaces):
            try:
                # Anything still running inside (should be nothing) dies first.
                pids = subprocess.run(["ip", "netns", "pids", ns], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True).stdout.split()
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                sh("ip", "netns", "del", ns)
            except Exception as e:
                errors.append(repr(e))
        self.namespaces = []
        if errors:
            raise RuntimeError("cluster cleanup: " + "; ".join(errors))


def kill_app_group(pid):
    """SIGKILL pid's process group and pid itself (either may be gone)."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def proc_starttime(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def pid_alive(pid):
    """True while PID exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_children(pid):
    """PIDs of pid's children (from every task's children file)."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return kids


def proc_argv(pid):
    """The argv of pid, or [] when it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_wait_state(pid):
    """pid's state letter, kernel wait channel and syscall, for a report."""
    def read(name):
        try:
            with open("/proc/%d/%s" % (pid, name)) as f:
                return f.read().strip()
        except OSError:
            return "?"
    stat = read("stat")
    letter = stat.rsplit(")", 1)[1].split()[0] if ")" in stat else "?"
    return "state %s, wchan %s, syscall %s" % (letter, read("wchan"), read("syscall").split(" ")[0])


def proc_comm(pid):
    """The name of pid (/proc/PID/comm), or "" when it is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def supervisor_of(worker_dir):
    """The pid of the supervisor of the worker on worker_dir (the process
    `drover-supervisor DIR`, a child of the worker that started it, or of
    init once that worker is gone), or None."""
    want = os.path.realpath(worker_dir)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        argv = proc_argv(int(name))
        if (len(argv) == 2 and os.path.basename(argv[0]) == "drover-supervisor"
                and os.path.realpath(argv[1]) == want and pid_alive(int(name))):
            return int(name)
    return None


def worker_app_pids(worker_pid, worker_dir):
    """The processes a worker runs: the children of its node's supervisor
    (its apps, and what they left running when they ended), and the
    worker's own children but the supervisor (a health-check probe, or an
    app whose supervisor died)."""
    sup = supervisor_of(worker_dir)
    pids = [p for p in proc_children(sup) if pid_alive(p)] if sup else []
    return pids + [k for k in proc_children(worker_pid) if k != sup and pid_alive(k)]


def vm_rss_kb(pid):
    """VmRSS (resident set now) of pid in kB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError("no VmRSS for pid %d" % pid)


def vm_hwm_kb(pid):
    """VmHWM (peak resident set) of pid in kB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise ValueError("no VmHWM for pid %d" % pid)


def write_script(directory, name, text, mode=0o755):
    """Write an executable file (a test program for the worker) and return
    its absolute path."""
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return os.path.abspath(path)


def launched_pid(stdout):
    """(app id, node, pid) from `launched APPID on NODE, pid PID`, or None."""
    m = re.search(r"^launched (\S+) on (\S+), pid (\d+)$", stdout.strip(), re.M)
    return (m.group(1), m.group(2), int(m.group(3))) if m else None


APP_FIELDS = {"id", "node", "name", "path", "args", "pid", "state", "cause", "exit_code",
              "signal", "restarts", "cpu_user_ms", "cpu_sys_ms", "max_rss_kb",
              "started_at", "ended_at"}

PS_HEADER = ["ID", "NODE", "NAME", "PID", "STATE", "CPU", "MAX", "RSS", "STARTED",
             "RESTARTS", "HEALTH", "CAUSE"]


def ps_rows(text):
    """{app id: row} from the `drover ps` table; a row is a dict of
    id, node, name, pid, state, cpu, max_rss, started, restarts, health and
    cause (cause may hold spaces; "-" when none).  Asserts the first line is
    the header."""
    lines = text.splitlines()
    assert lines and lines[0].split() == PS_HEADER, "not a ps table:\n" + text
    header = lines[0]
    cols = [header.index(c) for c in ("ID", "NODE", "NAME", "PID", "STATE", "CPU",
                                      "MAX RSS", "STARTED", "RESTARTS", "HEALTH",
                                      "CAUSE")]
    keys = ["id", "node", "name", "pid", "state", "cpu", "max_rss", "started",
            "restarts", "health", "cause"]
    rows = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        # Columns are left-aligned under their headers; STARTED ("1.2s ago")
        # and CAUSE hold spaces, so cut at the header's offsets.
        cells = [line[a:b].strip() for a, b in zip(cols, cols[1:] + [None])]
        row = dict(zip(keys, cells))
        rows[row["id"]] = row
    return rows


# ---- the `drover nodes` table ------------------------------------------------

NODES_HEADER = ["NAME", "ADDRESS", "STATE", "LAST", "SEEN", "CPU%", "MEM%", "APPS"]


def find_nodes_header(text):
    """Index of the first line of text that is the nodes table header, or -1."""
    for i, line in enumerate(text.splitlines()):
        tokens = line.split()
        # A shell may print a prompt before the output: match the tail.
        if tokens[-len(NODES_HEADER):] == NODES_HEADER:
            return i
    return -1


def nodes_rows(text, names):
    """{name: tokens} for each line of text whose first column (after an
    optional prompt ending in '>') is one of names."""
    rows = {}
    for line in text.splitlines():
        tokens = line.split()
        while tokens and tokens[0].endswith(">") and tokens[0] not in names:
            tokens = tokens[1:]
        if tokens and tokens[0] in names:
            rows.setdefault(tokens[0], tokens)
    return rows


def row_state(tokens):
    for state in ("ready", "unavailable"):
        if state in tokens:
            return state
    return None


# Rows (fault, what was checked, result) that test_faults.py records and
# conftest.py prints at the end of the run.
FAULT_RESULTS = []
