"""Installs a workspace's declared dependencies; runs inside the build container, as root.

This file is not imported by ARK: it is copied into a container made from
the sandbox image, with network, and run there by the image's ``python3``,
so it uses only the standard library. Everything it needs is under
``/ark-env``: ``spec.json`` (see :mod:`ark_lsp.sandbox.env_layer`), the
declaration files in ``declared/``, the workspace in ``project/`` when its
build backend must say what it depends on, pip in ``pip/`` when the image
has none, and the CA bundle of the host's pip. It resolves everything in one
pip run (``--dry-run --report``), installs the result without the project
itself into the interpreter's own ``purelib`` (console scripts into
``/usr/local/bin``), then removes ``/ark-env`` so
that the committed layer holds the packages only.

The project is seen as installed all the same: its name and version (from its
files, or from its build backend) are written as a ``.dist-info`` of metadata
alone, so ``importlib.metadata.version("marshmallow")`` answers in a run as
it does in a virtual environment the project is installed in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig

HOME = "/ark-env"
REPORT = HOME + "/report.json"
CONSTRAINTS = HOME + "/constraints.txt"
PROJECT = HOME + "/project"
DONE = "ARK-ENV-DONE "
SCRIPTS = "/usr/local/bin"


def pip(*words: str) -> int:
    """Run pip with the spec's words; its output goes to ARK as the build's log."""
    env = dict(os.environ)
    if os.path.isdir(HOME + "/pip/pip"):
        env["PYTHONPATH"] = HOME + "/pip"
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    return subprocess.run(command + list(words), cwd=HOME + "/declared", env=env).returncode


def main() -> None:
    with open(HOME + "/spec.json", encoding="utf-8") as handle:
        spec = json.load(handle)
    wanted = list(spec["requirements"])
    if spec.get("project") is not None:
        extras = ",".join(spec["project"])
        wanted.insert(0, PROJECT + ("[" + extras + "]" if extras else ""))
    for name in spec["requirement_files"]:
        wanted += ["-r", name]
    if spec["constraints"]:
        with open(CONSTRAINTS, "w", encoding="utf-8") as handle:
            handle.write("\n".join(spec["constraints"]) + "\n")
        wanted += ["-c", CONSTRAINTS]
    print("ARK: resolving the declared dependencies", flush=True)
    code = pip("install", "--dry-run", "--ignore-installed", "--report", REPORT, *wanted)
    if code != 0:
        sys.exit(10)
    with open(REPORT, encoding="utf-8") as handle:
        report = json.load(handle)
    pins = []
    metadata_only = spec.get("metadata")
    for item in report.get("install", []):
        url = (item.get("download_info") or {}).get("url", "")
        if url.startswith("file://" + PROJECT):
            # The project itself: its source is the run's own, its metadata what it built.
            metadata_only = metadata_only or {
                "name": item["metadata"]["name"],
                "version": item["metadata"]["version"],
            }
            continue
        metadata = item["metadata"]
        pins.append(metadata["name"] + "==" + metadata["version"])
    target = sysconfig.get_paths()["purelib"]
    print("ARK: installing " + str(len(pins)) + " packages into " + target, flush=True)
    if pins:
        code = pip("install", "--no-deps", "--upgrade", "--target", target, *pins)
        if code != 0:
            sys.exit(11)
    if metadata_only:
        write_metadata(target, metadata_only["name"], metadata_only["version"])
    scripts = os.path.join(target, "bin")
    if os.path.isdir(scripts):
        # --target leaves console scripts beside the packages; runs find commands on PATH.
        for name in os.listdir(scripts):
            destination = os.path.join(SCRIPTS, name)
            if not os.path.exists(destination):
                shutil.move(os.path.join(scripts, name), destination)
        shutil.rmtree(scripts, ignore_errors=True)
    print(DONE + json.dumps({"installed": pins, "target": target}), flush=True)
    shutil.rmtree(HOME, ignore_errors=True)
    shutil.rmtree(os.environ.get("HOME", "/nonexistent"), ignore_errors=True)


def write_metadata(target: str, name: str, version: str) -> None:
    """A ``.dist-info`` of the project's metadata alone: installed, its files the run's own."""
    stem = name.replace("-", "_").replace(".", "_") + "-" + version.replace("-", "_")
    folder = os.path.join(target, stem + ".dist-info")
    if os.path.basename(folder) != stem + ".dist-info":
        return  # a name or version that is no file name
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "METADATA"), "w", encoding="utf-8") as handle:
        handle.write("Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n")
    with open(os.path.join(folder, "INSTALLER"), "w", encoding="utf-8") as handle:
        handle.write("ark\n")
    print("ARK: the project is " + name + " " + version + " to importlib.metadata", flush=True)


if __name__ == "__main__":
    main()
