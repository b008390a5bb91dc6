"""The chapters' execution times: measured, kept per chapter, printed and shown on the last page."""

import json
import time

import pandas as pd

from msa_lib.book.timing import (
    ChapterTime,
    DescendantsCpu,
    record_times,
    run_summary,
    timing_markdown,
    timing_table,
    write_timing_page,
)


def chapter(name: str, seconds: float, cpu: float, data: str = "real") -> ChapterTime:
    """A timed chapter of one run, finished at a fixed time."""
    run = "2026-12-07T09:00:00+00:00"
    return ChapterTime(name, seconds, cpu, data, run, "2026-12-07T10:00:00+00:00", run, 1)


def test_cores_busy_is_cpu_seconds_per_wall_second():
    assert chapter("05_fusion", 100.0, 190.0).cores_busy == 1.9
    assert chapter("00_empty", 0.0, 0.0).cores_busy == 0.0


def test_the_cpu_clock_counts_child_processes_and_not_this_one():
    import subprocess
    import sys

    spin = "import time\nwhile time.process_time() < 0.6: pass"  # 0.6 CPU-s, however loaded
    with DescendantsCpu(interval=0.1) as cpu:
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:  # this process's own work does not count
            pass
        subprocess.run([sys.executable, "-c", spin], check=True)
    # the child's 0.6 CPU-s, less at most one sampling interval (0.1 s) at its end
    assert 0.45 <= cpu.seconds < 1.5


def test_the_terminal_table_lists_chapters_slowest_first_with_the_total():
    text = timing_table([chapter("01_data", 10.0, 10.0), chapter("05_fusion", 30.0, 57.0)])
    lines = text.splitlines()
    assert lines[0] == "[book] 2 chapters executed in 40.0 s"
    assert lines[1].split()[1:] == ["chapter", "wall", "share", "cores", "busy"]
    both = timing_table([chapter("01_data", 10.0, 10.0), chapter("05_fusion", 30.0, 57.0)], 31.0, 2)
    assert both.splitlines()[0] == (
        "[book] 2 chapters executed in 31.0 s, up to 2 at a time (their own times add up to 40.0 s)"
    )
    assert lines[2].split()[1:] == ["05_fusion", "30.0", "s", "75.0%", "1.90"]
    assert lines[3].split()[1:] == ["01_data", "10.0", "s", "25.0%", "1.00"]


def test_a_chapter_run_again_replaces_its_row_and_keeps_the_others(tmp_path):
    record_times(tmp_path, [chapter("01_data", 10.0, 10.0), chapter("05_fusion", 30.0, 57.0)])
    table = record_times(tmp_path, [chapter("05_fusion", 20.0, 40.0, "synthetic")])
    saved = pd.read_csv(tmp_path / "book_timing.csv")
    assert saved.equals(table)
    assert saved["chapter"].tolist() == ["01_data", "05_fusion"]
    fusion = saved.set_index("chapter").loc["05_fusion"]
    assert (fusion["seconds"], fusion["cores_busy"], fusion["data"]) == (20.0, 2.0, "synthetic")
    machine = json.loads((tmp_path / "book_machine.json").read_text())
    assert machine["cpu_count"] >= 1 and "python" in machine


def test_the_page_reads_in_book_order_with_totals_links_and_the_machine():
    run = "2026-12-07T09:59:30+00:00"
    table = pd.DataFrame(
        [
            {"chapter": "05_fusion", "seconds": 90.0, "cpu_seconds": 171.0, "cores_busy": 1.9,
             "data": "synthetic", "started": "2026-12-07T09:59:35+00:00",
             "finished": "2026-12-07T10:01:05+00:00", "run": run, "jobs": 2},
            {"chapter": "01_data", "seconds": 30.0, "cpu_seconds": 30.0, "cores_busy": 1.0,
             "data": "synthetic", "started": run, "finished": "2026-12-07T10:00:00+00:00",
             "run": run, "jobs": 2},
        ]
    )  # fmt: skip
    machine = {"cpu_count": 2, "affinity": 2, "cpu_model": "Test CPU", "platform": "Linux-x",
               "python": "3.11.9", "torch": "2.13.0"}  # fmt: skip
    text = timing_markdown(table, machine, ["01_data", "05_fusion"], lambda doc: doc == "01_data")
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith(
        "| {doc}`01_data` | SYNTHETIC | 30 | 25% | 1.00 | 2026-12-07 10:00:00"
    )
    assert rows[1].startswith("| `05_fusion` (not in this build) | SYNTHETIC | 90 | 75% | 1.90")
    assert rows[2] == "| **all chapters** | | **120** | 100% | 1.68 | |"  # 201 CPU-s / 120 s
    assert "times add up to 2.0 minutes" in text and "took 1.5 minutes (75%)" in text
    # the run: 09:59:30 to 10:01:05, 95 s, two chapters at once; 201 CPU-s over 95 s
    assert run_summary(table) == {
        "chapters": 2,
        "jobs": 2,
        "wall": 95.0,
        "chapter_seconds": 120.0,
        "cpu_seconds": 201.0,
    }
    assert "executed 2 chapters, up to 2 chapters at a time, in 1.6 minutes" in text
    assert "kept 2.12 of the machine's 2 cores busy on average" in text
    assert "Machine: 2-core CPU (Test CPU), Linux-x; python 3.11.9, torch 2.13.0." in text


def test_the_page_says_when_nothing_was_timed(tmp_path):
    (tmp_path / "results").mkdir()
    page = write_timing_page(tmp_path, ["01_data"])
    assert page.name == "_build_times.md"
    assert "No chapter has been executed" in page.read_text()
    record_times(tmp_path / "results", [chapter("01_data", 12.0, 12.0)])
    (tmp_path / "01_data.ipynb").write_text("{}")
    text = write_timing_page(tmp_path, ["01_data"]).read_text()
    assert "| {doc}`01_data` | real | 12 | 100% | 1.00 |" in text
