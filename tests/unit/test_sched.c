/* Unit tests for exec/sched: the interactive lane first, the batch lane's
 * bound and its share under a flood, round robin and weights between
 * principals, a principal's running limit, removal, counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "exec/pool.h"
#include "exec/sched.h"

#define NT 64
static exec_task tasks[NT];

static exec_task *
push(exec_sched *s, int i, exec_lane lane, const char *who, unsigned weight, unsigned maxrun)
{
    exec_task *t = &tasks[i];
    memset(t, 0, sizeof(*t));
    t->submit_ns = 1000;
    exec_sched_in in = {.lane = lane, .principal = who, .weight = weight, .max_running = maxrun};
    exec_sched_push(s, t, &in);
    return t;
}

static int
take(exec_sched *s)
{
    exec_task *t = exec_sched_take(s, 2000);
    return t ? (int)(t - tasks) : -1;
}

static void
done(exec_sched *s, int i)
{
    exec_sched_done(s, tasks[i].flow, (exec_lane)tasks[i].lane);
}

static void
test_interactive_first(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 4);
    push(&s, 0, EXEC_LANE_BATCH, "a", 1, 0);
    push(&s, 1, EXEC_LANE_BATCH, "a", 1, 0);
    push(&s, 2, EXEC_LANE_INTERACTIVE, "b", 0, 0);
    assert_int_equal(take(&s), 2);
    assert_int_equal(take(&s), 0);
    assert_int_equal(take(&s), 1);
    assert_int_equal(take(&s), -1);
    assert_int_equal(s.running[EXEC_LANE_BATCH], 2);
    assert_int_equal(s.running[EXEC_LANE_INTERACTIVE], 1);
    exec_sched_free(&s);
}

static void
test_batch_bound_leaves_workers_to_interactive(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 1);
    push(&s, 0, EXEC_LANE_BATCH, "a", 1, 0);
    push(&s, 1, EXEC_LANE_BATCH, "a", 1, 0);
    assert_int_equal(take(&s), 0);
    assert_int_equal(exec_sched_ready(&s), 0);
    assert_int_equal(take(&s), -1); /* batch is at its bound */
    push(&s, 2, EXEC_LANE_INTERACTIVE, NULL, 0, 0);
    assert_int_equal(exec_sched_ready(&s), 1);
    assert_int_equal(take(&s), 2);
    done(&s, 0);
    assert_int_equal(take(&s), 1);
    exec_sched_free(&s);
}

static void
test_batch_progresses_under_a_flood(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 2);
    push(&s, 0, EXEC_LANE_BATCH, "a", 1, 0);
    for (int i = 1; i <= 20; i++)
        push(&s, i, EXEC_LANE_INTERACTIVE, NULL, 0, 0);
    for (int i = 1; i <= EXEC_SCHED_BATCH_EVERY; i++)
        assert_int_equal(take(&s), i);
    assert_int_equal(take(&s), 0);
    assert_int_equal(take(&s), EXEC_SCHED_BATCH_EVERY + 1);
    exec_sched_free(&s);
}

static void
test_round_robin_newcomer_comes_next(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 1);
    for (int i = 0; i < 5; i++)
        push(&s, i, EXEC_LANE_BATCH, "a", 1, 0);
    assert_int_equal(take(&s), 0);
    push(&s, 10, EXEC_LANE_BATCH, "b", 1, 0); /* while a's first runs */
    done(&s, 0);
    assert_int_equal(take(&s), 10); /* b's job starts next */
    done(&s, 10);
    assert_int_equal(take(&s), 1);
    exec_sched_free(&s);
}

static void
test_weights(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 100);
    for (int i = 0; i < 12; i++)
        push(&s, i, EXEC_LANE_BATCH, "heavy", 3, 0);
    for (int i = 20; i < 32; i++)
        push(&s, i, EXEC_LANE_BATCH, "light", 1, 0);
    int heavy = 0, light = 0;
    for (int k = 0; k < 16; k++) {
        int t = take(&s);
        assert_true(t >= 0);
        if (t < 20)
            heavy++;
        else
            light++;
    }
    assert_int_equal(heavy, 12);
    assert_int_equal(light, 4);
    exec_sched_free(&s);
}

static void
test_principal_running_limit(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 4);
    push(&s, 0, EXEC_LANE_BATCH, "a", 1, 1);
    push(&s, 1, EXEC_LANE_BATCH, "a", 1, 1);
    push(&s, 2, EXEC_LANE_BATCH, "b", 1, 0);
    push(&s, 3, EXEC_LANE_BATCH, "b", 1, 0);
    assert_int_equal(take(&s), 0);
    assert_int_equal(take(&s), 2);
    assert_int_equal(take(&s), 3); /* a is at its limit */
    assert_int_equal(take(&s), -1);
    done(&s, 0);
    assert_int_equal(take(&s), 1);
    exec_sched_free(&s);
}

static void
test_remove_and_counters(void **state)
{
    (void)state;
    exec_sched s;
    exec_sched_init(&s, 2);
    push(&s, 0, EXEC_LANE_BATCH, "a", 1, 0);
    push(&s, 1, EXEC_LANE_BATCH, "a", 1, 0);
    push(&s, 2, EXEC_LANE_INTERACTIVE, "a", 1, 0);
    exec_flow *a = exec_sched_flow(&s, "a");
    assert_int_equal(a->queued[EXEC_LANE_BATCH], 2);
    assert_true(exec_sched_remove(&s, &tasks[0]));
    assert_false(exec_sched_remove(&s, &tasks[0]));
    assert_true(exec_sched_remove(&s, &tasks[1]));
    assert_null(s.ring);
    assert_int_equal(take(&s), 2);
    assert_false(exec_sched_remove(&s, &tasks[2])); /* running */
    assert_int_equal(take(&s), -1);
    assert_int_equal(a->queued[EXEC_LANE_BATCH] + a->queued[EXEC_LANE_INTERACTIVE], 0);
    assert_int_equal(a->wait_hist[EXEC_LANE_INTERACTIVE][0], 1);
    /* anonymous is one flow */
    assert_ptr_equal(exec_sched_flow(&s, NULL), exec_sched_flow(&s, ""));
    exec_sched_free(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interactive_first),
        cmocka_unit_test(test_batch_bound_leaves_workers_to_interactive),
        cmocka_unit_test(test_batch_progresses_under_a_flood),
        cmocka_unit_test(test_round_robin_newcomer_comes_next),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_principal_running_limit),
        cmocka_unit_test(test_remove_and_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
