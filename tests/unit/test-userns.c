/* SPDX-License-Identifier: Apache-2.0 */
/* The --private-users registry (src/lib/pod/userns.c): lowest free block, one block per pod,
 * release, a full pool, /etc/subuid ranges skipped, stale entries dropped, a corrupt file
 * refused (never read as empty), and allocations from concurrent processes that never
 * collide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "pod/userns.h"

#define U1    "11111111-1111-4111-8111-111111111111"
#define U2    "22222222-2222-4222-8222-222222222222"
#define U3    "33333333-3333-4333-8333-333333333333"
#define FIRST RK_USERNS_POOL_FIRST
#define SZ    RK_USERNS_SIZE

struct fx {
        char dir[64];
        int fd;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/rk-test-userns-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        close(f->fd);
        (void)rk_rm_rf_at(AT_FDCWD, f->dir, NULL);
        free(f);
        return 0;
}

static const struct rk_userns_pool POOL3 = {.first = FIRST, .slots = 3};

static uint32_t alloc_ok(struct fx *f, const struct rk_userns_pool *p, const char *uuid)
{
        rk_error e = RK_ERROR_INIT;
        uint32_t b = 0;
        int r = rk_userns_alloc(f->fd, p, uuid, &b, &e);
        if (r != 0)
                fail_msg("alloc %s: %d %s", uuid, r, e.msg);
        return b;
}

static void write_registry(struct fx *f, const char *text)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/userns", f->dir);
        (void)mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/userns/registry", f->dir);
        FILE *o = fopen(path, "w");
        assert_non_null(o);
        fputs(text, o);
        fclose(o);
}

static void test_alloc_free_reuse(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        uint32_t b = 0;
        assert_int_equal(alloc_ok(f, &POOL3, U1), FIRST);
        assert_int_equal(alloc_ok(f, &POOL3, U2), FIRST + SZ);
        /* the same pod asking again gets its own block, not a second one */
        assert_int_equal(alloc_ok(f, &POOL3, U1), FIRST);
        assert_int_equal(rk_userns_lookup(f->fd, U2, &b, &e), 0);
        assert_int_equal(b, FIRST + SZ);
        assert_int_equal(rk_userns_free(f->fd, U1, &e), 0);
        assert_int_equal(rk_userns_lookup(f->fd, U1, &b, &e), -ENOENT);
        /* freeing twice, or a pod without a block, is fine */
        assert_int_equal(rk_userns_free(f->fd, U1, &e), 0);
        /* the lowest free block goes to the next pod */
        assert_int_equal(alloc_ok(f, &POOL3, U3), FIRST);
        assert_int_equal(rk_userns_lookup(f->fd, U2, &b, &e), 0);
        assert_int_equal(b, FIRST + SZ);
}

static void test_full_pool(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        const struct rk_userns_pool p2 = {.first = FIRST, .slots = 2};
        uint32_t b = 0;
        alloc_ok(f, &p2, U1);
        alloc_ok(f, &p2, U2);
        assert_int_equal(rk_userns_alloc(f->fd, &p2, U3, &b, &e), -ENOSPC);
        assert_non_null(strstr(e.msg, "in use"));
        assert_int_equal(rk_userns_free(f->fd, U2, &e), 0);
        assert_int_equal(alloc_ok(f, &p2, U3), FIRST + SZ);
}

static void test_bad_args(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        uint32_t b = 0;
        assert_int_equal(rk_userns_alloc(f->fd, &POOL3, "not-a-uuid", &b, &e), -EINVAL);
        const struct rk_userns_pool unaligned = {.first = FIRST + 1, .slots = 1};
        assert_int_equal(rk_userns_alloc(f->fd, &unaligned, U1, &b, &e), -EINVAL);
        const struct rk_userns_pool zero = {.first = 0, .slots = 1};
        assert_int_equal(rk_userns_alloc(f->fd, &zero, U1, &b, &e), -EINVAL);
        const struct rk_userns_pool beyond = {.first = FIRST, .slots = 32768};
        assert_int_equal(rk_userns_alloc(f->fd, &beyond, U1, &b, &e), -EINVAL);
        /* the default pool fits below 2^32 - 1 */
        struct rk_userns_pool d;
        rk_userns_default_pool(f->dir, &d);
        assert_true((uint64_t)d.first + (uint64_t)d.slots * SZ < UINT32_MAX);
}

static void test_corrupt_registry_is_an_error(void **state)
{
        struct fx *f = *state;
        static const char *const bad[] = {
            "",                                                     /* no header */
            "rkt-userns 2\n",                                       /* unknown version */
            "rkt-userns 1\n" U1 " 2147483648",                      /* no newline */
            "rkt-userns 1\n" U1 "\n",                               /* no base */
            "rkt-userns 1\nxyz 2147483648\n",                       /* not a uuid */
            "rkt-userns 1\n" U1 " 2147483649\n",                    /* unaligned */
            "rkt-userns 1\n" U1 " 0\n",                             /* host root */
            "rkt-userns 1\n" U1 " -65536\n",                        /* sign */
            "rkt-userns 1\n" U1 " 99999999999\n",                   /* beyond 32 bits */
            "rkt-userns 1\n" U1 " 2147483648\n" U2 " 2147483648\n", /* one block twice */
            "rkt-userns 1\n" U1 " 2147483648\n" U1 " 2147549184\n", /* one pod twice */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                rk_error e = RK_ERROR_INIT;
                uint32_t b = 0;
                write_registry(f, bad[i]);
                int r = rk_userns_alloc(f->fd, &POOL3, U3, &b, &e);
                if (r != -EBADMSG)
                        fail_msg("case %zu: %d (%s), base %u", i, r, e.msg, b);
                assert_non_null(strstr(e.msg, "corrupt"));
                assert_int_equal(rk_userns_free(f->fd, U1, &e), -EBADMSG);
        }
        /* a good file is read back exactly */
        write_registry(f, "rkt-userns 1\n" U1 " 2147483648\n");
        assert_int_equal(alloc_ok(f, &POOL3, U2), FIRST + SZ);
}

static void test_subuid_ranges_skipped(void **state)
{
        struct fx *f = *state;
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/subuid", f->dir);
        FILE *o = fopen(sub, "w");
        assert_non_null(o);
        /* overlaps the first block by one id */
        fprintf(o, "someone:100000:65536\ncontainers:%u:1\n", FIRST + SZ - 1);
        fclose(o);
        struct rk_userns_pool p = POOL3;
        p.subgid = sub;
        assert_int_equal(alloc_ok(f, &p, U1), FIRST + SZ);
}

static bool only_u2_exists(void *ud, const char *uuid)
{
        (void)ud;
        return strcmp(uuid, U2) == 0;
}

static void test_stale_entries_dropped(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        uint32_t b = 0;
        alloc_ok(f, &POOL3, U1);
        alloc_ok(f, &POOL3, U2);
        struct rk_userns_pool p = POOL3;
        p.pod_exists = only_u2_exists;
        /* U1's pod is gone: its block is free again, U2 keeps its own */
        assert_int_equal(alloc_ok(f, &p, U3), FIRST);
        assert_int_equal(rk_userns_lookup(f->fd, U1, &b, &e), -ENOENT);
        assert_int_equal(rk_userns_lookup(f->fd, U2, &b, &e), 0);
        assert_int_equal(b, FIRST + SZ);
}

/* 8 processes x 4 pods each, all at once: 32 distinct blocks. */
static void test_concurrent_allocations(void **state)
{
        struct fx *f = *state;
        const struct rk_userns_pool p = {.first = FIRST, .slots = 64};
        pid_t pids[8];
        for (int i = 0; i < 8; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        for (int k = 0; k < 4; k++) {
                                char u[40];
                                snprintf(u, sizeof(u), "%08d-0000-4000-8000-%012d", i, k);
                                rk_error e = RK_ERROR_INIT;
                                uint32_t b;
                                if (rk_userns_alloc(f->fd, &p, u, &b, &e) != 0)
                                        _exit(1);
                        }
                        _exit(0);
                }
        }
        for (int i = 0; i < 8; i++) {
                int st = 0;
                assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        uint32_t seen[32];
        for (int i = 0; i < 8; i++)
                for (int k = 0; k < 4; k++) {
                        char u[40];
                        snprintf(u, sizeof(u), "%08d-0000-4000-8000-%012d", i, k);
                        rk_error e = RK_ERROR_INIT;
                        uint32_t b = 0;
                        assert_int_equal(rk_userns_lookup(f->fd, u, &b, &e), 0);
                        assert_true(b >= FIRST && b < FIRST + 32u * SZ && (b - FIRST) % SZ == 0);
                        for (int j = 0; j < i * 4 + k; j++)
                                assert_int_not_equal(seen[j], b);
                        seen[i * 4 + k] = b;
                }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_alloc_free_reuse, setup, teardown),
            cmocka_unit_test_setup_teardown(test_full_pool, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
            cmocka_unit_test_setup_teardown(test_corrupt_registry_is_an_error, setup, teardown),
            cmocka_unit_test_setup_teardown(test_subuid_ranges_skipped, setup, teardown),
            cmocka_unit_test_setup_teardown(test_stale_entries_dropped, setup, teardown),
            cmocka_unit_test_setup_teardown(test_concurrent_allocations, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
