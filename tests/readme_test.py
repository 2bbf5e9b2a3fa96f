#!/usr/bin/env python3
"""Runs the README's shell examples, in order, and compares their output with what the
README shows.

Every ```sh block is run unless the line before its fence is a marker
`<!-- readme-test: skip: REASON -->` (set-up commands that build, commands that need the
network or a person; the reasons are printed). In a block, `$ COMMAND` lines are
commands (a trailing backslash continues one on the next line); the lines after a
command, up to the next one, are its expected output, stdout and stderr together. Each
expected line must match exactly, except that `…` inside a line stands for any text and
a line holding only `...` or `…` stands for any number of lines. A command with no lines
after it must succeed but its output is not compared. A command may only fail when the
README shows its status with `$ echo $?` right after it.

The commands run one after another in one bash process, as a reader would type them,
from a scratch directory holding a copy of testdata/ and build/shcx (the binary under
test), with HOME, the trust store and the XDG directories pointing into scratch space.
The share examples use 127.0.0.1:8443; it is replaced by a free port so that test runs
cannot collide.

Usage: readme_test.py README.md SOURCE_DIR SHCX_BINARY [--show]   (--show prints outputs)
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

SKIP = re.compile(r"^<!-- readme-test: skip: (.+) -->$")
TIMEOUT_S = 600


def blocks(readme):
    """(first line number, lines) of every ```sh block to run; prints the skipped ones."""
    lines = readme.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```sh"):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            marker = SKIP.match(lines[start - 2]) if start >= 2 else None
            if marker:
                print(f"README.md:{start}: not run ({marker.group(1)})")
            else:
                out.append((start + 1, body))
        i += 1
    return out


def commands(block_start, body):
    """[(line number, command, expected lines)] of one block."""
    cmds = []
    i = 0
    while i < len(body):
        line = body[i]
        if not line.startswith("$ "):
            raise SystemExit(f"README.md:{block_start + i}: output before any command in a ```sh block "
                             f"(commands start with '$ '; mark blocks that are not run)")
        number, cmd = block_start + i, line[2:]
        while cmd.endswith("\\"):
            i += 1
            cmd += "\n" + body[i]
        i += 1
        expected = []
        while i < len(body) and not body[i].startswith("$ "):
            expected.append(body[i])
            i += 1
        while expected and expected[-1].strip() == "":
            expected.pop()
        cmds.append((number, cmd, expected))
    if not cmds:
        raise SystemExit(f"README.md:{block_start}: a ```sh block without commands")
    return cmds


def matches(expected, actual):
    parts = []
    for line in expected:
        if line.strip() in ("...", "…"):
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*".join(re.escape(p) for p in line.rstrip().split("…")) + r"\n")
    text = "".join(l.rstrip() + "\n" for l in actual.rstrip("\n").split("\n")) if actual else ""
    return re.fullmatch("".join(parts), text) is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__.strip().split("\n")[-1])
    readme_path, src, shcx = sys.argv[1:4]
    show = len(sys.argv) == 5 and sys.argv[4] == "--show"
    readme = open(readme_path, encoding="utf-8").read()
    port = str(free_port())
    cmds = [c for start, body in blocks(readme) for c in commands(start, body)]
    cmds = [(n, c.replace("127.0.0.1:8443", "127.0.0.1:" + port), [e.replace("127.0.0.1:8443", "127.0.0.1:" + port)
                                                                     for e in exp]) for n, c, exp in cmds]

    scratch = tempfile.mkdtemp(prefix="shcx-readme-")
    try:
        work = os.path.join(scratch, "shcx")
        os.makedirs(os.path.join(work, "build"))
        shutil.copytree(os.path.join(src, "testdata"), os.path.join(work, "testdata"))
        os.symlink(os.path.abspath(shcx), os.path.join(work, "build", "shcx"))
        results = os.path.join(scratch, "results")
        os.makedirs(results)
        script = ["set +e"]
        for k, (_, cmd, _) in enumerate(cmds):
            script.append(f"{{ {cmd}\n}} >'{results}/{k}.out' 2>&1 </dev/null\n__rc=$?\n"
                          f"echo $__rc >'{results}/{k}.rc'\n(exit $__rc)")
        # Stop whatever the examples left running, without waiting for ever.
        script.append("for p in $(jobs -p); do kill $p 2>/dev/null; done\n"
                      "for _ in $(seq 100); do [ -z \"$(jobs -rp)\" ] && break; sleep 0.1; done\n"
                      "for p in $(jobs -p); do kill -9 $p 2>/dev/null; done")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SHCX_", "XDG_")) and k not in ("HOME", "PWD", "OLDPWD")}
        env.update(HOME=os.path.join(scratch, "home"), LC_ALL="C.UTF-8", TZ="UTC")
        os.makedirs(env["HOME"])
        proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=work, env=env, start_new_session=True)
        try:
            proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SystemExit(f"FAIL: the README's commands did not finish within {TIMEOUT_S} s")
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything still running in the session
            except ProcessLookupError:
                pass

        failures = 0
        for k, (number, cmd, expected) in enumerate(cmds):
            out = open(os.path.join(results, f"{k}.out"), encoding="utf-8", errors="replace").read()
            rc = int(open(os.path.join(results, f"{k}.rc")).read())
            if show:
                print(f"--- README.md:{number}: $ {cmd}  (exit {rc})\n{out}", end="")
            shown = k + 1 < len(cmds) and cmds[k + 1][1].strip() == "echo $?"
            if rc != 0 and not shown:
                failures += 1
                print(f"FAIL README.md:{number}: `{cmd}` exited {rc} (show it with `$ echo $?`)\n{out}")
            elif expected and not matches(expected, out):
                failures += 1
                print(f"FAIL README.md:{number}: `{cmd}` printed:\n{out}--- but the README shows:\n"
                      + "\n".join(expected))
        print(f"{len(cmds)} README commands run, {failures} failed")
        sys.exit(1 if failures else 0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
