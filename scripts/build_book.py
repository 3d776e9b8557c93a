#!/usr/bin/env python
"""Execute the book's notebooks with papermill, then build the HTML with Jupyter Book (warnings = errors).

    python scripts/build_book.py                          # params/cpu.yaml, the reader's default
    python scripts/build_book.py --params params/ci.yaml  # CI smoke profile (sets OMP_NUM_THREADS=1)
    python scripts/build_book.py --only 04_relative_transfer --no-build   # one chapter, no HTML
    python scripts/build_book.py --params params/gpu.yaml params/tiny.yaml --no-build --out _build/smoke/gpu
                                                          # files merged in order; results under --out

Steps
1. Every notebook listed in _toc.yml is executed by papermill (Python API, kernel ``python3``) with all
   keys of the params file, in the notebook's own folder (book/) as working directory, into a staging
   copy of the book: _build/executed/{_config.yml,_toc.yml,book/}. Source notebooks are never modified.
   Each notebook runs in a forked child process, so that ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in that
   child is the peak resident memory of exactly that notebook's kernel.
2. The rest of book/ (markdown pages, references.bib, images, the vendored JavaScript in book/_vendor,
   which scripts/vendor_js.sh creates when missing) is copied beside the executed notebooks.
3. ``jupyter-book build _build/executed --all -W -n --keep-going``; the HTML lands in _build/html
   (open _build/html/index.html).
4. A table of wall time, the kernel's CPU time, the highest 1-minute load average seen (well above 2 on 2 cores:
   other work shared the machine) and peak kernel RSS per notebook (plus totals) is printed and written to
   _build/budget.json; each kernel's own stdout/stderr goes to _build/logs/<notebook>.log. The budget
   (issue): each notebook <= 180 s and <= 4 GiB with params/cpu.yaml on 2 cores, the whole book <= 15 min.
   ``--check-budget`` turns an overrun into a failure.

Exit status: 0 all good; 1 a notebook failed (its executed copy, traceback included, is still written
and the HTML still built so the error can be read); 2 the HTML build failed or warned; 3 over budget
(only with --check-budget). Several problems: the lowest of these codes.
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
STAGE = BUILD / "executed"
LOGS = BUILD / "logs"
VENDOR_STAMP = ROOT / "book" / "_vendor" / ".stamp"

BUDGET_NOTEBOOK_S = 180.0
BUDGET_NOTEBOOK_MB = 4096.0
BUDGET_TOTAL_S = 15 * 60.0


def toc_files(toc_path: Path) -> list[str]:
    """All page paths (no suffix, relative to the root) in a jb-book _toc.yml, in reading order."""
    toc = yaml.safe_load(toc_path.read_text())
    out = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                out.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return out


def has_parameters_cell(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)


def _execute_child(conn, src: str, dst: str, params: dict, cwd: str, cell_timeout, log: str) -> None:
    """Runs in a forked child: execute one notebook, report status and the kernel's peak RSS.

    The kernel inherits this process's stdout/stderr, which are sent to ``log`` (the kernel's own chatter,
    e.g. ipykernel's transport warning; a crash message if it dies). Cell outputs go into the notebook."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.getLogger("papermill").setLevel(logging.ERROR)  # not "Passed unknown parameter" x N keys
    signal.signal(signal.SIGTERM, _raise_exit)  # unwind through nbclient, which shuts the kernel down
    result = {"status": "ok", "error": None}
    try:
        papermill.execute_notebook(
            src, dst, parameters=params, kernel_name="python3", cwd=cwd,
            progress_bar=False, log_output=False, request_save_on_cell_execute=True,
            execution_timeout=cell_timeout,
        )
    except papermill.PapermillExecutionError as exc:
        result = {"status": "FAILED", "error": f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}",
                  "traceback": "\n".join(exc.traceback[-8:])}
    except BaseException as exc:  # kernel died, timeout, bad notebook, ...
        result = {"status": "FAILED", "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=6)}
    # ru_maxrss of reaped children (the kernel and anything it spawned) in KiB on Linux, bytes on macOS
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["peak_rss_mb"] = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # the kernel's CPU time: less noisy than wall on a busy machine
    conn.send(result)
    conn.close()


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def execute(src: Path, dst: Path, params: dict, cell_timeout, log: Path) -> dict:
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_execute_child,
                       args=(send, str(src), str(dst), params, str(src.parent), cell_timeout, str(log)))
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    proc.start()
    send.close()
    try:
        result = recv.recv()
    except EOFError:
        result = {"status": "FAILED", "error": "executor process died", "peak_rss_mb": float("nan")}
    except BaseException:  # interrupted (Ctrl-C, SIGTERM from a CI timeout): stop the executor and its kernel
        if proc.is_alive():
            proc.terminate()
            proc.join(30)
        raise
    proc.join()
    result["wall_s"] = time.perf_counter() - t0
    result["load"] = max(load0, os.getloadavg()[0])  # above the core count: other work shared the machine
    if proc.exitcode not in (0, None) and result["status"] == "ok":
        result.update(status="FAILED", error=f"executor exit code {proc.exitcode}")
    return result


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def postprocess(path: Path) -> None:
    """Tidy an executed notebook for the page, in place (the source notebook is untouched):
    - the cell papermill injected with the parameters is collapsed (``hide-cell``), still readable;
    - widget outputs that ended hidden are dropped: a ``tqdm.auto`` bar with ``leave=False`` becomes an
      invisible widget that would leave an empty gap on the page."""
    nb = nbformat.read(path, as_version=4)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})

    def hidden(model_id: str) -> bool:
        layout_ref = state.get(model_id, {}).get("state", {}).get("layout", "")
        layout = state.get(str(layout_ref).removeprefix("IPY_MODEL_"), {}).get("state", {})
        return layout.get("visibility") == "hidden" or layout.get("display") == "none"

    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "hide-cell" not in tags:
            tags.append("hide-cell")
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (WIDGET_VIEW in o.get("data", {}) and hidden(o["data"][WIDGET_VIEW]["model_id"]))]
    nbformat.write(nb, path)


def stage_unexecuted(src: Path, dst: Path) -> None:
    """Copy a notebook that is not executed this time. Its code cells are highlighted as IPython, as
    the kernel would declare on execution: with the bare ``language_info: {name: python}`` of a stripped
    notebook, a ``!pip``/``%cd`` line makes Pygments warn, and -W turns that into a failed build."""
    nb = nbformat.read(src, as_version=4)
    nb.metadata.setdefault("language_info", {"name": "python"}).setdefault("pygments_lexer", "ipython3")
    nbformat.write(nb, dst)


def ensure_vendored_js() -> None:
    if not VENDOR_STAMP.exists():
        print("build_book: book/_vendor missing, running scripts/vendor_js.sh", flush=True)
        subprocess.run(["bash", str(ROOT / "scripts" / "vendor_js.sh")], check=True)


def stage_static_files() -> None:
    """Copy config, toc and every non-notebook file of book/ (pages, bib, images, _vendor) to the stage."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, STAGE / name)
    ignore = shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "._vendor.*")
    shutil.copytree(ROOT / "book", STAGE / "book", ignore=ignore, dirs_exist_ok=True)


def jupyter_book_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "jupyter-book"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


def build_html() -> tuple[int, float]:
    for stale in ("html", ".doctrees", "jupyter_execute"):
        shutil.rmtree(BUILD / stale, ignore_errors=True)
    cmd = jupyter_book_cmd() + ["build", str(STAGE), "--all", "-W", "-n", "--keep-going",
                                "--path-output", str(ROOT)]
    print("build_book:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    return rc, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", nargs="+", default=["params/cpu.yaml"], metavar="FILE",
                        help="papermill parameter files, merged in order (a later file's keys win; default: "
                             "%(default)s)")
    parser.add_argument("--out", help="write executed/, logs/ and budget.json here instead of _build/ "
                                      "(with --no-build: the HTML is built from _build/executed only)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="execute only these notebooks (stem or path, e.g. 04_relative_transfer); the others "
                             "are staged unexecuted")
    parser.add_argument("--no-build", action="store_true", help="execute only, skip the HTML build")
    parser.add_argument("--check-budget", action="store_true",
                        help=f"fail (exit 3) when a notebook exceeds {BUDGET_NOTEBOOK_S:.0f} s or "
                             f"{BUDGET_NOTEBOOK_MB:.0f} MB or the book exceeds {BUDGET_TOTAL_S:.0f} s")
    parser.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell (default: none)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)

    if args.out and not args.no_build:
        parser.error("--out needs --no-build")
    global BUILD, STAGE, LOGS
    if args.out:
        BUILD = Path(args.out).resolve()
        STAGE, LOGS = BUILD / "executed", BUILD / "logs"
    params = {}
    for name in args.params:
        values = yaml.safe_load((ROOT / name).read_text()) or {}  # ROOT / an absolute path is that path
        if not isinstance(values, dict):
            parser.error(f"{name} must hold a mapping of parameter names to values, got {type(values).__name__}")
        params.update(values)
    args.params = " + ".join(args.params)
    profile = params.get("profile", Path(args.params).stem)
    if profile == "ci":
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # silences a debugger warning of ipykernel
    shared_lama = ROOT.parent / "shared" / "lama"
    if "LAMA_DIR" not in os.environ and (shared_lama / "README.md").is_file():
        os.environ["LAMA_DIR"] = str(shared_lama.resolve())  # as the Makefile does; else the library downloads

    pages = toc_files(ROOT / "_toc.yml")
    notebooks = [p for p in pages if (ROOT / f"{p}.ipynb").exists()]
    missing = [p for p in pages if not (ROOT / f"{p}.ipynb").exists() and not (ROOT / f"{p}.md").exists()]
    if missing:
        print(f"build_book: pages in _toc.yml with no .ipynb or .md file: {missing}", file=sys.stderr)
        return 1
    only = None
    if args.only:
        only = {Path(n).stem for n in args.only}
        unknown = only - {Path(p).name for p in notebooks}
        if unknown:
            parser.error(f"--only: not a notebook of _toc.yml: {sorted(unknown)}; "
                         f"known: {[Path(p).name for p in notebooks]}")

    if not args.no_build:
        ensure_vendored_js()
    shutil.rmtree(STAGE, ignore_errors=True)
    (STAGE / "book").mkdir(parents=True)
    LOGS.mkdir(parents=True, exist_ok=True)

    print(f"build_book: executing {len(notebooks)} notebooks with {args.params} (profile {profile!r}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"LAMA_DIR={os.environ.get('LAMA_DIR', 'unset')})", flush=True)
    rows = []
    for page in notebooks:
        src, dst = ROOT / f"{page}.ipynb", STAGE / f"{page}.ipynb"
        dst.parent.mkdir(parents=True, exist_ok=True)
        name = Path(page).name
        if only is not None and name not in only:
            stage_unexecuted(src, dst)
            rows.append({"notebook": name, "status": "skipped", "wall_s": 0.0, "peak_rss_mb": 0.0})
            continue
        if not has_parameters_cell(src):
            print(f"build_book: WARNING {name} has no cell tagged 'parameters'; papermill inserts the "
                  f"parameters at the top", file=sys.stderr)
        print(f"build_book: running {name} ...", flush=True)
        log = LOGS / f"{name}.log"
        result = execute(src, dst, params, args.cell_timeout, log)
        row = {"notebook": name, **{k: result.get(k) for k in ("status", "wall_s", "cpu_s", "load", "peak_rss_mb",
                                                                "error")}}
        rows.append(row)
        print(f"build_book:   {row['status']} in {row['wall_s']:.1f} s, peak RSS {row['peak_rss_mb']:.0f} MB",
              flush=True)
        if result["status"] != "ok":
            print(f"build_book:   {result['error']}\n{result.get('traceback', '')}", file=sys.stderr, flush=True)
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            tail = [ln for ln in lines if ln.strip() and "without encryption" not in ln][-15:]
            if tail:
                print(f"build_book:   last lines of {os.path.relpath(log, ROOT)}:\n    " + "\n    ".join(tail),
                      file=sys.stderr, flush=True)
        if dst.exists():
            postprocess(dst)
        else:  # papermill failed before writing: stage the source so the build still sees the page
            stage_unexecuted(src, dst)
    stage_static_files()

    build_rc, build_s = (None, 0.0) if args.no_build else build_html()

    ran = [r for r in rows if r["status"] != "skipped"]
    exec_total = sum(r["wall_s"] for r in ran)
    for r in ran:
        over = []
        if r["wall_s"] > BUDGET_NOTEBOOK_S:
            over.append("time")
        if r["peak_rss_mb"] > BUDGET_NOTEBOOK_MB:
            over.append("memory")
        r["over_budget"] = over
    total = exec_total + build_s
    within = all(not r["over_budget"] for r in ran) and total <= BUDGET_TOTAL_S
    failed = [r["notebook"] for r in rows if r["status"] == "FAILED"]

    width = max([len(r["notebook"]) for r in rows] + [len("TOTAL")])
    lines = [f"{'notebook':<{width}}  {'status':<7}  {'wall s':>8}  {'CPU s':>8}  {'load':>5}  {'peak RSS MB':>11}"
             "  budget", "-" * (width + 60)]
    for r in rows:
        flag = "" if r["status"] == "skipped" else ("OVER: " + "+".join(r["over_budget"]) if r["over_budget"] else "ok")
        lines.append(f"{r['notebook']:<{width}}  {r['status']:<7}  {r['wall_s']:>8.1f}  {r.get('cpu_s') or 0:>8.1f}  "
                     f"{r.get('load') or 0:>5.1f}  {r['peak_rss_mb']:>11.0f}  {flag}")
    lines.append("-" * (width + 60))
    peak = max([r["peak_rss_mb"] for r in ran] or [0.0])
    cpu_total = sum(r.get("cpu_s") or 0 for r in ran)
    lines.append(f"{'execution':<{width}}  {'':<7}  {exec_total:>8.1f}  {cpu_total:>8.1f}  {'':>5}  {peak:>11.0f}")
    if build_rc is not None:
        lines.append(f"{'html build':<{width}}  {'ok' if build_rc == 0 else 'FAILED':<7}  {build_s:>8.1f}")
    lines.append(f"{'TOTAL':<{width}}  {'':<7}  {total:>8.1f}  {'':>11}  "
                 f"{'ok' if total <= BUDGET_TOTAL_S else 'OVER'} (book <= {BUDGET_TOTAL_S:.0f} s)")
    print(f"\nBudget (params {args.params}; limits per notebook {BUDGET_NOTEBOOK_S:.0f} s / "
          f"{BUDGET_NOTEBOOK_MB:.0f} MB, book {BUDGET_TOTAL_S:.0f} s; the budget applies to params/cpu.yaml)")
    print("\n".join(lines))

    BUILD.mkdir(parents=True, exist_ok=True)
    report = {
        "params": args.params, "profile": profile, "parameters": params,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "limits": {"notebook_wall_s": BUDGET_NOTEBOOK_S, "notebook_peak_rss_mb": BUDGET_NOTEBOOK_MB,
                   "total_wall_s": BUDGET_TOTAL_S},
        "notebooks": rows, "execution_wall_s": exec_total, "html_build_wall_s": build_s,
        "html_build_rc": build_rc, "total_wall_s": total, "peak_rss_mb": peak,
        "within_budget": within, "failed": failed,
        "html": str((BUILD / "html" / "index.html").relative_to(ROOT)) if build_rc is not None else None,
    }
    (BUILD / "budget.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"build_book: wrote {os.path.relpath(BUILD / 'budget.json', ROOT)}"
          + (f"; HTML in {(BUILD / 'html').relative_to(ROOT)}/index.html" if build_rc == 0 else ""))

    if failed:
        print(f"build_book: FAILED notebooks: {failed} (executed copies with tracebacks in "
              f"{os.path.relpath(STAGE, ROOT)}/book/)", file=sys.stderr)
        return 1
    if build_rc not in (None, 0):
        print(f"build_book: jupyter-book build failed (exit {build_rc}); warnings count as errors (-W)",
              file=sys.stderr)
        return 2
    if args.check_budget and not within:
        print("build_book: over budget", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
