"""The headless student of benchmarks/students.py against a real ``streamlit run`` server: it
must speak enough of Streamlit's protocol to open a page, press a button and follow the
fragment's auto-reruns to the end of a run, as the classroom benchmark and deploy/smoke.sh
rely on. Step counts only; the timeout is a generous bound, never asserted on."""

import asyncio
import concurrent.futures

from benchmarks.students import Student


def test_a_student_opens_train_presses_start_and_follows_the_run_to_its_end(server):
    def finished(stats):
        # the end of the run and the chart drawn with it (the progress text is drawn first,
        # so on a fast machine the last progress can arrive before the chart's delta)
        return bool(stats.steps) and stats.steps[-1][1] == 60 and len(stats.chart_updates) >= 2

    student = Student(
        f"{server}/train?steps=60&seed=3", name="s", press=("train_start",), until=finished
    )
    # in a thread of its own: a browser test's Playwright may hold this thread's event loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        stats = pool.submit(asyncio.run, student.run(stay=240)).result()
    assert stats.error is None and stats.done, stats
    assert stats.first_page is not None and stats.pressed is not None
    assert stats.steps[0][1:] == (0, 60)  # the progress text before Start: step 0 / 60
    assert stats.steps[-1][1:] == (60, 60)  # the fragment's reruns followed to the end
    assert len(stats.sessions) == 1 and stats.reconnects == 0
    assert len(stats.chart_updates) >= 2  # the untrained chart, then curves with points
    assert stats.finished.get("FINISHED_SUCCESSFULLY", 0) >= 2  # the page, then Start's rerun
