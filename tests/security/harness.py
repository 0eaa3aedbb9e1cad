"""What the measurements in tests/security share: a throw-away folder with a config
listening on a free loopback port, users added through the CLI, and `tributary serve`
started there and waited for."""
import os, socket, subprocess, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`with Server(binary, users={"alice": "pw"}, extra="[limits]\\n...") as srv:` runs
    the server on `srv.port` (pid `srv.pid`) until the block ends. `srv.cli(...)` runs
    another command against the same config; `srv.folder` holds config and database.
    With `start=False` nothing is started until `srv.start()` (to import first)."""

    def __init__(self, binary, users=None, extra="", server_extra="", start=True):
        self.binary = os.path.abspath(binary)
        self._tmp = tempfile.TemporaryDirectory(prefix="tributary-security-")
        self.folder = self._tmp.name
        self.port = free_port()
        self.config = os.path.join(self.folder, "config.toml")
        with open(self.config, "w") as f:
            f.write(
                f'[server]\nlisten = "127.0.0.1:{self.port}"\n{server_extra}'
                f'[storage]\npath = "t.db"\n[log]\nlevel = "warn"\n{extra}'
            )
        for name, password in (users or {}).items():
            self.cli("user", "add", name, input=f"{password}\n".encode())
        self.proc = None
        self._autostart = start

    def cli(self, *args, **kw):
        return subprocess.run(
            [self.binary, "--config", self.config, *args], check=True, capture_output=True, **kw
        )

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config, "serve"], stderr=subprocess.DEVNULL
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise SystemExit("the server did not start")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def __enter__(self):
        return self.start() if self._autostart else self

    def __exit__(self, *exc):
        self.stop()
        self._tmp.cleanup()
