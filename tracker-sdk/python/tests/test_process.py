"""Process life cycle: exit without finish, uncaught exceptions, Ctrl-C, SIGKILL, several
writers at once, fork. Each case runs a real child interpreter."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings

from conftest import cli, export, py, show

LOOP = """
import sys, trackbench as tb
run = tb.init(project="proc", name=sys.argv[1] if len(sys.argv) > 1 else None)
print("run", run.id, flush=True)
for step in range({steps}):
    run.log({{"m%d" % k: step * 0.5 + k for k in range({keys})}}, step=step)
    if {flush_every} and (step + 1) % {flush_every} == 0:
        run.flush()
        print("flushed", step + 1, flush=True)
{tail}
"""


def loop(steps=1000, keys=3, flush_every=0, tail=""):
    return LOOP.format(steps=steps, keys=keys, flush_every=flush_every, tail=tail)


def first_line_id(proc):
    line = proc.stdout.readline()
    assert line.startswith("run "), line + proc.stderr.read()
    return line.split()[1]


def test_interpreter_exit_without_finish_flushes_and_finishes(store):
    p = py(loop(steps=5000, keys=4))
    run_id = first_line_id(p)
    assert p.wait(timeout=60) == 0, p.stderr.read()
    r = export(store, run_id)
    assert r["status"] == "finished"
    assert all(len(r["metrics"][f"m{k}"]["steps"]) == 5000 for k in range(4))


def test_uncaught_exception_marks_failed_with_traceback(store):
    p = py(loop(steps=10, tail="raise ValueError('diverged at step 10')"))
    run_id = first_line_id(p)
    assert p.wait(timeout=60) == 1
    r = show(store, run_id)
    assert r["status"] == "failed"
    assert "ValueError: diverged at step 10" in r["error"]
    assert r["metrics"]["m0"]["count"] == 10


def test_ctrl_c_marks_killed(store):
    # A shell that starts CI in the background makes its children ignore SIGINT, and Python
    # then never turns it into KeyboardInterrupt: restore the default handler first.
    restore = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    p = py(restore + loop(steps=10, tail="import time\nprint('ready', flush=True)\ntime.sleep(60)"))
    run_id = first_line_id(p)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=60) != 0
    r = show(store, run_id)
    assert r["status"] == "killed"
    assert r["metrics"]["m0"]["count"] == 10


def test_sigkill_keeps_every_flushed_point_and_reads_as_crashed(store):
    p = py(loop(steps=10**9, keys=5, flush_every=1000))
    run_id = first_line_id(p)
    flushed = 0
    while flushed < 20000:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        if line.startswith("flushed"):
            flushed = int(line.split()[1])
    p.kill()
    p.wait()
    r = export(store, run_id)
    for k in range(5):
        steps = r["metrics"][f"m{k}"]["steps"]
        values = r["metrics"][f"m{k}"]["values"]
        assert len(steps) >= flushed
        assert steps[:flushed] == list(range(flushed))
        assert values[flushed - 1] == (flushed - 1) * 0.5 + k
    health = json.loads(cli(store, "doctor", "--json").stdout)
    assert health["integrity"] == "ok"
    time.sleep(1.5)
    assert show(store, run_id, timeout=1)["status"] == "crashed"


def test_four_processes_log_into_one_store_at_once(store):
    procs = [py(loop(steps=20000, keys=5), **{}) for _ in range(4)]
    ids = [first_line_id(p) for p in procs]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    for run_id in ids:
        r = export(store, run_id)
        assert r["status"] == "finished"
        for k in range(5):
            assert r["metrics"][f"m{k}"]["steps"] == list(range(20000))
    runs = json.loads(cli(store, "runs", "ls", "--project", "proc", "--json").stdout)
    assert len(runs) == 4


def test_fork_child_cannot_corrupt_the_parent_run(tb, store):
    run = tb.init(project="fork")
    run.log({"x": 1.0}, step=0)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the parent's run is inert here; a new run works
        os.close(r)
        code = 0
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run.log({"x": 99.0}, step=1)
                run.config["child"] = True
                run.finish()
            if not any("forked" in str(c.message) for c in caught):
                code = 3
            child = tb.init(project="fork", name="child-run")
            child.log({"y": 7.0}, step=0)
            child.finish()
            os.write(w, child.id.encode())
        except BaseException as e:  # noqa: BLE001
            os.write(w, f"ERR {e!r}".encode())
            code = 4
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    child_id = os.read(r, 200).decode()
    os.close(r)
    assert os.waitstatus_to_exitcode(status) == 0, child_id
    run.log({"x": 2.0}, step=1)
    run.finish()
    parent = export(store, run.id)
    assert parent["metrics"]["x"]["values"] == [1.0, 2.0], "the child's write was a no-op"
    assert "child" not in parent["params"]
    assert parent["status"] == "finished"
    assert export(store, child_id)["metrics"]["y"]["values"] == [7.0]


def test_multiprocessing_fork_pool_workers(tb, store):
    import multiprocessing as mp

    run = tb.init(project="mp")
    run.log({"x": 1.0}, step=0)
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        child_ids = pool.map(_worker, range(4))
    run.log({"x": 2.0}, step=1)
    run.finish()
    assert export(store, run.id)["metrics"]["x"]["values"] == [1.0, 2.0]
    for i, cid in enumerate(child_ids):
        assert export(store, cid)["metrics"]["w"]["values"] == [float(i)]


def _worker(i):
    import trackbench as tb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tb.log({"ignored": 1.0})  # the inherited current run is gone in the child
    with tb.init(project="mp", name=f"worker-{i}") as child:
        child.log({"w": float(i)}, step=0)
        return child.id


def test_import_is_light():
    out = subprocess.run([sys.executable, "-c",
                          "import sys, trackbench, trackbench.integrations; "
                          "print(sorted(m for m in ('numpy', 'torch', 'jax', 'lightning', 'transformers') if m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_quickstart_script(store):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, os.path.join(here, "examples", "quickstart.py")],
                         capture_output=True, text=True, check=True)
    assert "logged run" in out.stdout
    shown = cli(store, "runs", "show", "quickstart-demo").stdout
    assert "train/loss" in shown and "best_val_acc" in shown and "model.depth" in shown
