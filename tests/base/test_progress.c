/* Tests of progress reporting: a bar on a terminal, plain lines in logs. */
#include "pvx-private/core.h"

static void progress_plain_mode_prints_one_final_line(void)
{
    if (g_test_subprocess()) {
        pvx_progress_set_terminal(FALSE);
        pvx_progress_set_log_interval(1000.0);
        PvxProgress *p = pvx_progress_new("epoch 1/2", 100, "img");
        for (int i = 1; i <= 100; i++)
            pvx_progress_update(p, i, "loss %.2f", 1.0 / i);
        pvx_progress_finish(p, "loss %.3f acc %.3f", 0.25, 0.9);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    /* No redraws and no intermediate lines within the interval: exactly the summary. */
    g_test_trap_assert_stderr("epoch 1/2 100%  100/100  loss 0.250 acc 0.900  * img/s  0:00\n");
}

static void progress_plain_mode_logs_at_interval(void)
{
    if (g_test_subprocess()) {
        pvx_progress_set_terminal(FALSE);
        pvx_progress_set_log_interval(0.0);
        PvxProgress *p = pvx_progress_new("train", 4, "img");
        for (int i = 1; i <= 4; i++)
            pvx_progress_update(p, i, NULL);
        pvx_progress_finish(p, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("train  25%  1/4*train  50%  2/4*train  75%  3/4*train 100%  4/4*");
    g_test_trap_assert_stderr_unmatched("*\r*");
}

static void progress_terminal_mode_draws_a_bar_in_place(void)
{
    if (g_test_subprocess()) {
        pvx_progress_set_terminal(TRUE);
        PvxProgress *p = pvx_progress_new("epoch 1/1", 10, "img");
        pvx_progress_update(p, 10, "loss 0.50");
        pvx_progress_finish(p, "done");
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("\repoch 1/1 [####################] 100%  10/10  loss 0.50*\n");
}

static void progress_quiet_prints_nothing(void)
{
    if (g_test_subprocess()) {
        pvx_log_set_verbosity(0);
        pvx_progress_set_terminal(FALSE);
        PvxProgress *p = pvx_progress_new("x", 2, NULL);
        pvx_progress_update(p, 1, NULL);
        pvx_progress_finish(p, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/progress/plain_mode_prints_one_final_line",
                    progress_plain_mode_prints_one_final_line);
    g_test_add_func("/progress/plain_mode_logs_at_interval", progress_plain_mode_logs_at_interval);
    g_test_add_func("/progress/terminal_mode_draws_a_bar_in_place",
                    progress_terminal_mode_draws_a_bar_in_place);
    g_test_add_func("/progress/quiet_prints_nothing", progress_quiet_prints_nothing);
    return g_test_run();
}
