"""explorer.ui.task_views: one result view registered for every task the Train page offers."""

from explorer.tasks import TASKS, USER_SERIES
from explorer.ui.task_views import RESULT_VIEWS


def test_every_task_and_the_users_file_have_a_result_view():
    assert set(RESULT_VIEWS) == set(TASKS) | {USER_SERIES.key}


def test_the_series_tasks_share_the_forecast_view():
    assert RESULT_VIEWS["forecast"] is RESULT_VIEWS["sine"] is RESULT_VIEWS[USER_SERIES.key]
    assert RESULT_VIEWS["adding"] is not RESULT_VIEWS["copy"]
