"""The CPython interpreters the Python-driven tests and benchmarks run.

pyenv builds are found without assuming PATH: `pyenv root`, $PYENV_ROOT,
/root/.pyenv, /opt/pyenv, each version as versions/3.X.Y/bin/python3.X.
Debian's python3.11 is /usr/bin/python3.11 (static, non-PIE, stripped).
A script imports this file from tests/ (sys.path.insert of its parent).
"""
import glob
import os
import re
import subprocess


def _pyenv_builds():
    """{(minor, micro): executable} of every readable pyenv CPython 3.8+."""
    roots = []
    try:
        roots.append(subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    roots += [os.environ.get("PYENV_ROOT", ""), "/root/.pyenv", "/opt/pyenv"]
    found = {}
    for r in roots:
        for exe in sorted(glob.glob(os.path.join(r, "versions", "3.*", "bin", "python3.*"))) if r else []:
            m = re.search(r"versions/3\.(\d+)\.(\d+)/bin/python3\.\d+$", exe)
            if m and int(m.group(1)) >= 8:
                found.setdefault((int(m.group(1)), int(m.group(2))), exe)
    return found


def installed():
    """[(label, executable)]: the newest pyenv build of each of 3.8-3.13,
    then Debian's python3.11; prints a "SKIP: ..." line for each missing."""
    builds = _pyenv_builds()
    out = []
    for minor in range(8, 14):
        micros = sorted(m for (mi, m) in builds if mi == minor)
        if micros:
            out.append(("pyenv 3.%d.%d" % (minor, micros[-1]), builds[(minor, micros[-1])]))
        else:
            print("SKIP: no readable pyenv CPython 3.%d on this machine" % minor, flush=True)
    if os.access("/usr/bin/python3.11", os.X_OK):
        out.append(("debian 3.11", "/usr/bin/python3.11"))
    else:
        print("SKIP: /usr/bin/python3.11 (Debian's static build) is not installed", flush=True)
    return out


def newest_pyenv():
    """The newest pyenv CPython 3.8+, or None."""
    builds = _pyenv_builds()
    return builds[max(builds)] if builds else None
