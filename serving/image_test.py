"""`python serving/image_test.py --model DIR [--gguf FILE]` (what `make image-test` runs): build
the serving images with docker or podman and use them as an integrator would.

For each image (the torch CPU image, and the llama.cpp image when a GGUF is given): build it, start
it with the model folder mounted read-only at /models/base (as serving/README.md says), wait for
/readyz, run its HEALTHCHECK command, create a key and load the sample shop policies inside it,
import a sample catalog through the API, request a description and an answer, check it runs as
uid/gid 10001 (and, for llama.cpp, that torch is not installed), stop it and check it exits cleanly.
Then: a model folder with a 0600 file must stop the server with one line naming the path and the
permission; and docker-compose.yml (API + PostgreSQL) is brought up with podman-compose or
`docker compose`: migrations ran, a key works, the data survives `down` + `up`.
Prints one JSON line (build times, image sizes, start-to-ready, RSS, statuses); exit code 1 when
a check failed.

Where the base image cannot be pulled (no registry), a stand-in is built from Debian packages
with debootstrap (bookworm, Python 3.11) and tagged as the base; the JSON says which base was used.
This host's quirks (podman runtime, rlimits, CA bundle, local wheels) are options, detected by
default: see `--help`. Nothing here edits the Dockerfiles.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BASE = "docker.io/library/python:3.11-slim"
STANDIN_LABEL = "org.smallretail.stand-in"
PG_IMAGE = "postgres:17-alpine"
SHOP, SAMPLE = "hanbat_food", REPO / "src/smallretail_llm/catalog/samples/hanbat_food.csv"
SKU = "HB-PF-001"
# the stand-in PostgreSQL: Debian's server behind the official image's environment variables
PG_STANDIN = """FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql \\
 && rm -rf /var/lib/apt/lists/*
COPY entrypoint.sh /entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
ENTRYPOINT ["sh", "/entrypoint.sh"]
"""
PG_ENTRYPOINT = """set -e
mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "$POSTGRES_PASSWORD" > /tmp/pw && chown postgres /tmp/pw
  su postgres -c "initdb -D $PGDATA -U $POSTGRES_USER --pwfile=/tmp/pw --encoding=UTF8 --auth-local=trust --auth-host=scram-sha-256"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  su postgres -c "pg_ctl -D $PGDATA -w start -o '-c listen_addresses='"
  su postgres -c "createdb -U $POSTGRES_USER $POSTGRES_DB"
  su postgres -c "pg_ctl -D $PGDATA -w stop"
fi
exec su postgres -c "exec postgres -D $PGDATA"
"""


class Run:
    """The container engine with this host's options, and the report being built."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.engine = args.engine
        self.report: dict = {"engine": self.engine, "failed": []}
        self.env = dict(os.environ)
        if self.engine == "podman":
            conf = args.conf / "containers.conf"
            ulimits = ", ".join(f'"{u}"' for u in args.ulimit)
            lines = ["[containers]", f"default_ulimits = [{ulimits}]"]
            if args.runtime:
                lines += ["[engine]", f'runtime = "{args.runtime}"']
            conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
            self.env["CONTAINERS_CONF"] = str(conf)

    def sh(self, *cmd: str, check: bool = True, timeout: float | None = 1800,
           input: str | None = None) -> subprocess.CompletedProcess:
        # files, not pipes: `run -d` leaves conmon holding inherited pipes open, and reading
        # them to the end would wait for the container
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            code = subprocess.run(cmd, stdout=out, stderr=err, env=self.env, timeout=timeout,
                                  input=input.encode() if input else None, check=False).returncode
            out.seek(0)
            err.seek(0)
            done = subprocess.CompletedProcess(cmd, code, out.read().decode(errors="replace"),
                                               err.read().decode(errors="replace"))
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])}… exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-1500:]}")
        return done

    def ce(self, *cmd: str, **kw) -> subprocess.CompletedProcess:
        return self.sh(self.engine, *cmd, **kw)

    @staticmethod
    def say(message: str) -> None:
        """Progress on stderr; stdout carries only the JSON line."""
        print(f"[image-test {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def check(self, name: str, ok: bool, detail: object = None) -> bool:
        if not ok:
            self.say(f"FAILED {name}: {detail}")
            self.report["failed"].append(f"{name}: {detail}" if detail is not None else name)
        return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(args)
    try:
        run.report["base"] = ensure_image(run, BASE, build_standin)
        images = {"cpu": ("serving/Dockerfile", [])}
        if args.gguf:
            images["llama"] = ("serving/Dockerfile.llama", [f"{args.wheels}:/wheels"])
        else:
            run.report["llama"] = "skipped: no --gguf given (make llama, smallretail export --gguf)"
        for name, (dockerfile, volumes) in images.items():
            run.report[f"{name}_image"] = build(run, name, dockerfile, volumes)
            if not args.build_only:
                run.report[f"{name}_run"] = smoke(run, name)
        if not args.build_only:
            run.report["unreadable_model"] = unreadable_model(run)
            run.report["compose"] = (compose(run) if not args.skip_compose
                                     else "skipped: --skip-compose")
    except (RuntimeError, OSError, subprocess.SubprocessError, httpx.HTTPError, ValueError) as exc:
        # the JSON line still comes out, with what failed
        run.check("error", False, f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    run.report["ok"] = not run.report["failed"]
    print(json.dumps(run.report, ensure_ascii=False))
    return 0 if run.report["ok"] else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    home = Path(os.environ.get("SMALLRETAIL_HOME", Path.home() / ".cache/smallretail"))
    parser.add_argument("--model", type=Path, default=home / "models/nano",
                        help="model folder to mount at /models/base (default: the built nano)")
    parser.add_argument("--gguf", type=Path, help="GGUF inside --model for the llama.cpp image")
    parser.add_argument("--engine", choices=["docker", "podman"], default=default_engine())
    parser.add_argument("--runtime", default=default_runtime(),
                        help="podman OCI runtime (default: runc where cgroups are hybrid)")
    parser.add_argument("--ulimit", action="append", default=None,
                        help="podman default ulimits (default: nofile at this process's hard "
                        "limit, nproc 4096)")
    parser.add_argument("--build-volume", action="append", default=None,
                        help="podman build -v for RUN steps (default: CA bundle, pip.conf)")
    parser.add_argument("--torch-index", help="TORCH_INDEX build-arg (default: the Dockerfile's, "
                        "or PyPI when --find-links holds the torch CPU wheel)")
    parser.add_argument("--find-links", default=os.environ.get("PIP_FIND_LINKS"),
                        help="local wheel folder given to pip in the build (default: $PIP_FIND_LINKS)")
    parser.add_argument("--wheels", type=Path, default=home / "wheels",
                        help="llama-cpp-python wheel folder mounted at /wheels (built once, reused)")
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--skip-compose", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build, no smoke test (make image)")
    args = parser.parse_args(argv)
    if not args.build_only and not (args.model / "config.json").is_file():
        parser.error(f"no model folder at {args.model} (smallretail model build-nano)")
    if args.gguf and args.gguf.resolve().parent != args.model.resolve():
        parser.error(f"--gguf must lie in --model (it is mounted with it): {args.gguf}")
    args.work = tempfile.mkdtemp(prefix="image-test-")
    # the generated containers.conf and pip.conf keep one path: buildah's layer cache keys on
    # RUN mounts, so a new path each run would rebuild every layer
    args.conf = home / "image-test"
    args.conf.mkdir(parents=True, exist_ok=True)
    # runc sets these in the container; a sandbox may refuse more than the host's hard limit
    # (nofile) or a few thousand processes (nproc: 8192 passed here, 16384 did not)
    args.ulimit = args.ulimit or [f"{n}={v}:{v}" for n, v in (
        ("nofile", _hard(resource.RLIMIT_NOFILE, 1 << 20)),
        ("nproc", _hard(resource.RLIMIT_NPROC, 4096)))]
    args.wheels.mkdir(parents=True, exist_ok=True)
    return args


def _hard(limit: int, cap: int) -> int:
    hard = resource.getrlimit(limit)[1]
    return cap if hard == resource.RLIM_INFINITY else min(hard, cap)


def default_engine() -> str:
    docker_up = shutil.which("docker") and subprocess.run(
        ["docker", "info"], capture_output=True, check=False, timeout=30).returncode == 0
    return "docker" if docker_up or not shutil.which("podman") else "podman"


def default_runtime() -> str | None:
    """crun refuses hybrid cgroups (v1 with a v2 'unified' mount); runc runs there."""
    hybrid = Path("/sys/fs/cgroup/unified").is_dir()
    return "runc" if hybrid and shutil.which("runc") else None


def build_options(run: Run) -> list[str]:
    """podman build options for this host: HEALTHCHECK kept (docker format), host network,
    the CA bundle and a pip.conf (cert, local wheels) mounted into RUN steps."""
    args = run.args
    if run.engine == "docker":
        return []
    options = ["--format", "docker", "--network", "host"]
    volumes = list(args.build_volume or [])
    if args.build_volume is None:
        ca = Path("/etc/ssl/certs/ca-certificates.crt")
        pip_conf = ["[global]"]
        if ca.is_file():
            volumes.append(f"{ca}:{ca}:ro")
            pip_conf.append(f"cert = {ca}")
        if args.find_links and Path(args.find_links).is_dir():
            volumes.append(f"{args.find_links}:{args.find_links}:ro")
            pip_conf.append(f"find-links = {args.find_links}")
        conf = args.conf / "pip.conf"
        conf.write_text("\n".join(pip_conf) + "\n", encoding="utf-8")
        volumes.append(f"{conf}:/etc/pip.conf:ro")
    for volume in volumes:
        options += ["-v", volume]
    return options


def ensure_image(run: Run, ref: str, make_standin) -> str:
    """``ref``: present, else pulled, else a stand-in made here (labelled, and said so)."""
    if run.ce("image", "inspect", ref, check=False).returncode != 0:
        if run.ce("pull", ref, check=False, timeout=120).returncode == 0:
            return f"{ref} (pulled)"
        make_standin(run)
    label = run.ce("image", "inspect", "--format", f'{{{{index .Config.Labels "{STANDIN_LABEL}"}}}}',
                   ref, check=False).stdout.strip()
    return f"stand-in for {ref}: {label}" if label and "no value" not in label else ref


def build_standin(run: Run) -> None:
    """python:3.11-slim is unreachable: Debian bookworm (python3 3.11) from debootstrap."""
    rootfs = Path(run.args.work) / "rootfs"
    run.say(f"no registry for {BASE}: building a stand-in with debootstrap")
    run.sh("debootstrap", "--variant=minbase",
           "--include=python3,python3-venv,python3-pip,ca-certificates",
           "bookworm", str(rootfs), "http://deb.debian.org/debian")
    (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
                 "usr/share/locale"):
        for path in (rootfs / junk).glob("*"):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    done = subprocess.run(
        [run.engine, "import", "--change", 'CMD ["python3"]', "--change",
         f'LABEL {STANDIN_LABEL}="debootstrap bookworm minbase, python3 3.11"', "-", BASE],
        stdin=tar.stdout, capture_output=True, text=True, env=run.env, check=False)
    tar.wait()
    shutil.rmtree(rootfs)
    if done.returncode != 0:
        raise RuntimeError(f"stand-in base import failed: {done.stderr.strip()[-500:]}")


def build(run: Run, name: str, dockerfile: str, volumes: list[str]) -> dict:
    options = build_options(run)
    if run.engine == "podman":
        options += ["--ignorefile", f"{dockerfile}.dockerignore"]
        for volume in volumes:
            options += ["-v", volume]
    torch_index = run.args.torch_index
    if torch_index is None and run.args.find_links and any(
            Path(run.args.find_links).glob("torch-*+cpu-*.whl")):
        torch_index = "https://pypi.org/simple"  # the CPU wheel is local; no second index
    if torch_index and name == "cpu":
        options += ["--build-arg", f"TORCH_INDEX={torch_index}"]
    run.say(f"building smallretail-api:{name} from {dockerfile}")
    started = time.monotonic()
    run.ce("build", *options, "-f", dockerfile, "-t", f"smallretail-api:{name}", ".",
           timeout=3600)
    seconds = time.monotonic() - started
    size = int(run.ce("image", "inspect", "--format", "{{.Size}}", f"smallretail-api:{name}")
               .stdout.strip())
    limit = {"cpu": 1300, "llama": 600}[name]
    run.check(f"{name} image size", size / 1e6 <= limit, f"{size / 1e6:.0f} MB > {limit} MB")
    return {"build_s": round(seconds, 1), "size_mb": round(size / 1e6)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def container_env(run: Run, name: str) -> list[str]:
    options = ["-v", f"{run.args.model.resolve()}:/models/base:ro",
               "-e", "SMALLRETAIL_MODEL=/models/base"]
    if name == "llama":
        options += ["-e", f"SMALLRETAIL_GGUF=/models/base/{run.args.gguf.name}"]
    return options


def smoke(run: Run, name: str) -> dict:
    container, port = f"smallretail-imagetest-{name}", free_port()
    run.ce("rm", "-f", container, check=False)
    run.say(f"starting {container}")
    started = time.monotonic()
    run.ce("run", "-d", "--name", container, "-p", f"127.0.0.1:{port}:8000",
           *container_env(run, name), f"smallretail-api:{name}")
    out: dict = {}
    try:
        url = f"http://127.0.0.1:{port}"
        out["ready_s"] = wait_ready(run, container, url, started)
        out["healthcheck"] = healthcheck(run, container, f"smallretail-api:{name}")
        out["uid_gid"] = run.ce("exec", container, "id", "-u").stdout.strip() + ":" + run.ce(
            "exec", container, "id", "-g").stdout.strip()
        run.check(f"{name} runs as 10001:10001", out["uid_gid"] == "10001:10001", out["uid_gid"])
        if name == "llama":
            no_torch = run.ce("exec", container, "python", "-c", "import torch", check=False)
            out["torch_installed"] = no_torch.returncode == 0
            run.check("llama image without torch", not out["torch_installed"])
        key = create_key(run, container)
        out["statuses"] = requests(run, url, key, name)
        rss = run.ce("exec", container, "sh", "-c", "grep VmRSS /proc/1/status").stdout.split()
        out["rss_mb"] = round(int(rss[1]) / 1024)
        stop_started = time.monotonic()
        run.ce("stop", "-t", "30", container)
        out["stop_s"] = round(time.monotonic() - stop_started, 1)
        code = run.ce("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
        out["exit_code"] = int(code)
        run.check(f"{name} stops cleanly", code == "0", f"exit code {code}")
    finally:
        if run.report["failed"]:
            out["log_tail"] = run.ce("logs", "--tail", "15", container, check=False).stderr[-1500:]
        run.ce("rm", "-f", "-v", container, check=False)  # with its anonymous /app/data volume
    return out


def wait_ready(run: Run, container: str, url: str, started: float) -> float:
    while time.monotonic() - started < run.args.ready_timeout:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return round(time.monotonic() - started, 1)
        except httpx.HTTPError:
            pass
        state = run.ce("inspect", "--format", "{{.State.Running}}", container).stdout.strip()
        if state != "true":
            logs = run.ce("logs", "--tail", "5", container, check=False)
            raise RuntimeError(f"{container} exited before ready: {logs.stderr.strip()[-800:]}")
        time.sleep(0.5)
    raise RuntimeError(f"{container} not ready after {run.args.ready_timeout:.0f} s")


def healthcheck(run: Run, container: str, image: str) -> str:
    """The image's own HEALTHCHECK, run now (podman's timer needs systemd; docker's runs every
    30 s): present (docker format) and passing."""
    if run.engine == "podman":
        done = run.ce("healthcheck", "run", container, check=False)
        status = "healthy" if done.returncode == 0 else (done.stderr or done.stdout).strip()
    else:
        test = json.loads(run.ce("image", "inspect", "--format", "{{json .Config.Healthcheck}}",
                                 image).stdout or "null") or {}
        command = test.get("Test", [])
        status = "missing" if len(command) < 2 else (
            "healthy" if run.ce("exec", container, *command[1:], check=False).returncode == 0
            else "unhealthy")
    run.check(f"{image} HEALTHCHECK", status == "healthy", status)
    return status


def create_key(run: Run, container: str) -> str:
    samples = run.ce("exec", container, "python", "-c", "import smallretail_llm.catalog.samples as s, os; "
                     "print(os.path.dirname(s.__file__))").stdout.strip()
    run.ce("exec", container, "smallretail", "catalog", "policy", f"{samples}/shops.json")
    created = run.ce("exec", container, "smallretail", "keys", "create", "--shop", SHOP)
    return json.loads(created.stdout.strip().splitlines()[-1])["key"]


def requests(run: Run, url: str, key: str, name: str) -> dict[str, int]:
    """The integrator's first calls; each must answer as the API tests expect."""
    auth = {"Authorization": f"Bearer {key}"}
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=url, timeout=300) as client:
        statuses["no_key"] = client.get("/v1/products").status_code
        imported = client.post("/v1/products/import", headers=auth,
                               files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "text/csv")})
        statuses["import"] = imported.status_code
        run.check(f"{name} import", imported.status_code == 200 and
                  imported.json().get("imported", 0) > 0, imported.text[:300])
        described = client.post("/v1/descriptions", headers=auth,
                                json={"product_id": SKU, "style": "intro"})
        statuses["description"] = described.status_code
        run.check(f"{name} description", described.status_code == 200 and
                  "grounding" in described.json() and described.json()["text"], described.text[:300])
        answered = client.post("/v1/answers", headers=auth,
                               json={"product_id": SKU, "question": "보관은 어떻게 해요?"})
        statuses["answer"] = answered.status_code
        run.check(f"{name} answer", answered.status_code == 200 and "grounding" in answered.json()
                  and answered.json()["answer"], answered.text[:300])
    run.check(f"{name} refuses no key", statuses["no_key"] == 401, statuses["no_key"])
    return statuses


def unreadable_model(run: Run) -> dict:
    """A copy of the model with a 0600 file owned by another user: one line, path and mode."""
    copy = Path(run.args.work) / "unreadable"
    run.say("model folder with a 0600 file")
    shutil.copytree(run.args.model, copy, ignore=shutil.ignore_patterns("*.gguf"))
    weights = copy / "model.safetensors"
    weights.chmod(0o600)
    os.chown(weights, 0, 0) if os.getuid() == 0 else None
    done = run.ce("run", "--rm", "-v", f"{copy}:/models/base:ro", "-e",
                  "SMALLRETAIL_MODEL=/models/base", "smallretail-api:cpu", check=False, timeout=300)
    shutil.rmtree(copy)
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    ok = (done.returncode != 0 and "/models/base/model.safetensors" in last and "-rw-------" in last
          and "Traceback" not in done.stderr)
    run.check("unreadable model gives one line", ok, done.stderr.strip()[-600:])
    return {"exit_code": done.returncode, "message": last}


def compose(run: Run) -> dict | str:
    """docker-compose.yml (API + PostgreSQL): migrations, a key, data kept over down + up."""
    tool = (["docker", "compose"] if run.engine == "docker" else
            ["podman-compose"] if shutil.which("podman-compose") else None)
    if tool is None:
        return "skipped: neither podman-compose nor docker compose is installed"
    out: dict = {"tool": " ".join(tool)}
    run.say(f"compose with {out['tool']}")
    out["db_image"] = ensure_image(run, f"docker.io/library/{PG_IMAGE}", build_pg_standin)
    port = free_port()
    env_file = Path(run.args.work) / "compose.env"
    env_file.write_text(f"POSTGRES_PASSWORD={secrets.token_hex(12)}\nSMALLRETAIL_MODEL=/models\n",
                        encoding="utf-8")
    run.env.update(SMALLRETAIL_ENV_FILE=str(env_file), SMALLRETAIL_PUBLISH_PORT=str(port),
                   SMALLRETAIL_MODELS_DIR=str(run.args.model.resolve()),
                   POSTGRES_PASSWORD=env_file.read_text().split("\n")[0].split("=", 1)[1])
    base = [*tool, "-p", "smallretail-imagetest", "-f", str(REPO / "serving/docker-compose.yml")]
    url = f"http://127.0.0.1:{port}"
    # an interrupted earlier run leaves its volumes: a database initialised with that run's
    # password refuses this one's ("password authentication failed"), so start from nothing
    run.sh(*base, "down", "-v", check=False)
    try:
        started = time.monotonic()
        api, db = compose_up(run, base)
        out["ready_s"] = wait_ready(run, api, url, started)
        out["migration"] = run.ce("exec", db, "psql", "-U", "smallretail", "-d", "smallretail",
                                  "-tAc", "select version_num from alembic_version").stdout.strip()
        run.check("compose migrations", bool(out["migration"]), out["migration"])
        key = create_key(run, api)
        out["statuses"] = {"before": requests(run, url, key, "compose")}
        run.sh(*base, "down")
        wait_ready(run, compose_up(run, base)[0], url, time.monotonic())
        with httpx.Client(base_url=url, timeout=60) as client:
            kept = client.get(f"/v1/products/{SKU}", headers={"Authorization": f"Bearer {key}"})
        out["statuses"]["after_restart"] = kept.status_code
        run.check("compose keeps data", kept.status_code == 200, kept.text[:200])
    finally:
        run.sh(*base, "down", "-v", check=False)
    return out


def build_pg_standin(run: Run) -> None:
    """postgres:17-alpine is unreachable: Debian's PostgreSQL 15 on the python base."""
    folder = Path(run.args.work) / "pg"
    folder.mkdir()
    (folder / "Containerfile").write_text(PG_STANDIN, encoding="utf-8")
    (folder / "entrypoint.sh").write_text(PG_ENTRYPOINT, encoding="utf-8")
    run.ce("build", *build_options(run), "--label", f"{STANDIN_LABEL}=Debian bookworm PostgreSQL 15",
           "-t", f"docker.io/library/{PG_IMAGE}", str(folder))


def compose_up(run: Run, base: list[str]) -> tuple[str, str]:
    """db first, api once it answers: podman-compose ignores `condition: service_healthy`."""
    run.sh(*base, "up", "-d", "db")
    db = compose_container(run, "db")
    for _ in range(120):
        # over TCP: during its first start the server initialises with the socket only
        if run.ce("exec", db, "pg_isready", "-h", "127.0.0.1", "-U", "smallretail", "-d",
                  "smallretail", check=False).returncode == 0:
            break
        time.sleep(1)
    run.sh(*base, "up", "-d", "api")
    return compose_container(run, "api"), db


def compose_container(run: Run, service: str) -> str:
    names = run.ce("ps", "-a", "--filter", "label=com.docker.compose.project=smallretail-imagetest",
                   "--filter", f"label=com.docker.compose.service={service}",
                   "--format", "{{.Names}}").stdout.split()
    if not names:
        raise RuntimeError(f"compose started no '{service}' container")
    return names[0]


if __name__ == "__main__":
    sys.exit(main())
