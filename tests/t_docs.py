#!/usr/bin/env python3
"""Run the code examples of README.md and docs/**/*.md, so a page cannot drift
from what the program writes and accepts (issue 9: the h5py example read
datasets the file did not have).

Convention, for every fenced block (```lang ... ```):

- ```python and ```sh blocks are run, in a scratch directory that looks like
  the repository root (build/apical, networks/, tests/, analysis/ ...) and
  holds the fixtures below. A sh block runs line by line (a trailing
  backslash continues a line); every command must exit 0.
- ```yaml blocks are loaded with `apical check`: a whole network (a top-level
  `simulation:` key) as it stands; a fragment inside the network named by a
  marker on the line before the block, `<!-- doc-test: in NAME -->`, where the
  network's @BLOCK@ line is replaced by the block (indented like @BLOCK@);
  `<!-- doc-test: each line in NAME -->` checks every line on its own (for
  lists of alternatives). A fragment without a marker is an error.
- `<!-- not-run: reason -->` on the line before a block skips it.
- Blocks without a language (layouts, transcripts, error messages) are text.
  So are indented blocks: they hold make targets and long runs.

Fixtures: run.h5 = networks/brette2007_coba_stdp.yaml for 100 ms (every
group the output-format examples read), also as results/run1.h5 and
results/learn.h5 (the from_file examples), and my_network.yaml (the README).

A failure names the page and line of the block (and for python the line in
the page, since the block runs at its own line numbers).
Usage: PYTHON=python3 APICAL=build/apical python3 tests/t_docs.py [PAGE.md ...]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APICAL = os.path.abspath(os.environ.get("APICAL", os.path.join(ROOT, "build", "apical")))
PYTHON = os.environ.get("PYTHON", sys.executable)

# Networks that hold a fragment. Sizes match the fixture run.h5 (exc 3200) so
# that from_file examples load it.
CONTEXTS = {
    "initial": """\
simulation: {duration: 10 ms}
populations:
  a:
    size: 2
    model: lif_cond_exp
    initial:
      @BLOCK@
""",
    "connectivity": """\
simulation: {duration: 10 ms}
populations:
  exc: {size: 3200, model: lif_cond_exp}
projections:
  - source: exc
    target: exc
    receptor: exc
    weight: 6 nS
    delay: 0.1 ms
    @BLOCK@
""",
    "projection": """\
simulation: {duration: 10 ms}
populations:
  exc: {size: 3200, model: lif_cond_exp}
projections:
  - source: exc
    target: exc
    connectivity: {rule: bernoulli, p: 0.02}
    receptor: exc
    weight: 6 nS
    delay: 0.1 ms
    @BLOCK@
""",
    "projections": """\
simulation: {duration: 10 ms}
populations:
  exc: {size: 3200, model: lif_cond_exp}
projections:
@BLOCK@
""",
    "stdp": """\
simulation: {duration: 10 ms}
populations:
  inputs: {size: 10, model: parrot}
  neuron: {size: 1, model: lif_cond_exp}
@BLOCK@
""",
    "dendritic": """\
simulation: {duration: 10 ms}
populations:
  input: {size: 10, model: parrot}
  hidden: {size: 3, model: dendritic_hidden}
@BLOCK@
""",
    "protocol": """\
simulation: {duration: 5000 ms}
populations:
  inputs: {size: 4, model: parrot}
  hidden: {size: 3, model: dendritic_hidden}
  output: {size: 5, model: dendritic_output}
projections:
  - {name: basal, source: inputs, target: hidden, connectivity: all_to_all,
     receptor: basal, weight: 0.5, delay: 1 ms}
  - {source: hidden, target: output, connectivity: all_to_all,
     receptor: basal, weight: 0.1, delay: 1 ms}
@BLOCK@
""",
}

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARK_SKIP = re.compile(r"<!--\s*not-run:\s*\S.*-->")
MARK_CTX = re.compile(r"<!--\s*doc-test:\s*(each line )?in\s+(\S+)\s*-->")


def blocks(path):
    """(lang, first line number of the code, code lines, marker line) per fenced block."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = m.group(1), m.group(2).lower()
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if j == len(lines):
            raise SystemExit("%s:%d: unterminated code block" % (path, i + 1))
        code = [l[len(indent):] if l.startswith(indent) else l for l in lines[i + 1:j]]
        before = lines[i - 1] if i > 0 else ""
        out.append((lang, i + 2, code, before))
        i = j + 1
    return out


def run(cmd, cwd, **kw):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, **kw)


def make_scratch(tmp):
    os.makedirs(os.path.join(tmp, "build"))
    os.symlink(APICAL, os.path.join(tmp, "build", "apical"))
    for d in ("networks", "tests", "analysis", "docs", "models", "include", "data"):
        if os.path.exists(os.path.join(ROOT, d)):
            os.symlink(os.path.join(ROOT, d), os.path.join(tmp, d))
    # 100 ms of COBA with STDP on one thread: spikes, a state report of exc
    # nodes 0-3, a weights report and final edges of exc->exc, provenance.
    r = run([APICAL, "run", "networks/brette2007_coba_stdp.yaml", "--duration", "100 ms",
             "--threads", "1", "--quiet", "-o", "run.h5"], tmp)
    if r.returncode != 0:
        raise SystemExit("FAIL: fixture run failed:\n" + r.stdout)
    os.makedirs(os.path.join(tmp, "results"))
    for name in ("run1.h5", "learn.h5"):
        shutil.copy(os.path.join(tmp, "run.h5"), os.path.join(tmp, "results", name))
    shutil.copy(os.path.join(ROOT, "networks", "brette2007_coba.yaml"),
                os.path.join(tmp, "my_network.yaml"))


def check_yaml(text, tmp, n):
    """apical check on TEXT, written to net/; returns (ok, output)."""
    os.makedirs(os.path.join(tmp, "net"), exist_ok=True)
    path = os.path.join(tmp, "net", "doc%d.yaml" % n)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    r = run([APICAL, "check", path], tmp)
    return r.returncode == 0, text + "---\n" + r.stdout


def in_context(name, code):
    ctx = CONTEXTS[name]
    m = re.search(r"^( *)@BLOCK@$", ctx, re.M)
    body = "\n".join((m.group(1) + l) if l.strip() else l for l in code)
    return ctx[:m.start()] + body + ctx[m.end():]


def sh_commands(code, first):
    """(doc line, command) per command, joining backslash continuations."""
    cmds, cur, start = [], "", None
    for k, l in enumerate(code):
        if start is None:
            if not l.strip() or l.lstrip().startswith("#"):
                continue
            start = first + k
        if l.rstrip().endswith("\\"):
            cur += l.rstrip()[:-1] + " "
            continue
        cmds.append((start, cur + l))
        cur, start = "", None
    if start is not None:
        cmds.append((start, cur))
    return cmds


def main():
    pages = sys.argv[1:]
    if not pages:
        pages = ["README.md"]
        for d, _, files in os.walk(os.path.join(ROOT, "docs")):
            pages += [os.path.relpath(os.path.join(d, f), ROOT)
                      for f in sorted(files) if f.endswith(".md")]
    tmp = tempfile.mkdtemp(prefix="t_docs.", dir=os.environ.get("TMPDIR"))
    env = dict(os.environ, PYTHON=PYTHON)
    failures, counts, n = [], {"python": 0, "sh": 0, "yaml": 0, "skipped": 0}, 0
    try:
        make_scratch(tmp)
        for page in sorted(pages):
            for lang, line, code, before in blocks(os.path.join(ROOT, page)):
                where = "%s:%d" % (page, line)
                if lang not in ("python", "sh", "yaml"):
                    continue
                if MARK_SKIP.search(before):
                    counts["skipped"] += 1
                    continue
                n += 1
                counts[lang] += 1
                if lang == "python":
                    # Blank lines first, so a traceback's line is the page's.
                    src = os.path.join(tmp, "block%d.py" % n)
                    with open(src, "w", encoding="utf-8") as f:
                        f.write("\n" * (line - 1) + "\n".join(code) + "\n")
                    r = run([PYTHON, src], tmp, env=env)
                    if r.returncode != 0:
                        failures.append("%s: python block failed:\n%s"
                                        % (where, r.stdout.replace(src, page)))
                elif lang == "sh":
                    for cl, cmd in sh_commands(code, line):
                        r = run(["sh", "-c", cmd], tmp, env=env)
                        if r.returncode != 0:
                            failures.append("%s:%d: `%s` exited %d:\n%s"
                                            % (page, cl, cmd.strip(), r.returncode, r.stdout))
                            break
                else:
                    m = MARK_CTX.search(before)
                    whole = any(re.match(r"simulation\s*:", l) for l in code)
                    if m is None and not whole:
                        failures.append("%s: yaml fragment without <!-- doc-test: in NAME --> "
                                        "or <!-- not-run: reason -->" % where)
                        continue
                    if m is None:
                        ok, out = check_yaml("\n".join(code) + "\n", tmp, n)
                        if not ok:
                            failures.append("%s: apical check failed:\n%s" % (where, out))
                        continue
                    if m.group(2) not in CONTEXTS:
                        failures.append("%s: unknown context '%s' (known: %s)"
                                        % (where, m.group(2), ", ".join(CONTEXTS)))
                        continue
                    parts = ([(line + k, [l]) for k, l in enumerate(code) if l.strip()]
                             if m.group(1) else [(line, code)])
                    for pl, part in parts:
                        ok, out = check_yaml(in_context(m.group(2), part), tmp, n)
                        if not ok:
                            failures.append("%s:%d: apical check failed in context '%s':\n%s"
                                            % (page, pl, m.group(2), out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("t_docs: %d python, %d sh, %d yaml blocks run, %d marked not-run"
          % (counts["python"], counts["sh"], counts["yaml"], counts["skipped"]))
    for f in failures:
        print("FAIL " + f.rstrip())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
