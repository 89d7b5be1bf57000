/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering images with dependencies: the plan (order, whitelists, cycles, caps) and the
 * reference renderer's scenarios (appc pkg/acirenderer) re-expressed as trees extracted by
 * rk_aci_extract, in-process and in the confined child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aci-tar.h"
#include "aci/render.h"

#define N(a)     (sizeof(a) / sizeof((a)[0]))
#define MAX_IMGS 8

struct img {
        const char *name;
        const char *pwl[8];
        const char *deps[4];
        const struct tent *ents;
        size_t n_ents;
        /* filled by reg_build */
        struct rk_image_manifest m;
        struct rk_dependency d[4];
        char id[RK_IMAGE_ID_LEN + 1];
        int fd;
};

struct reg {
        struct img *v;
        size_t n;
        const char *force_id; /* resolver answers this ID instead (mismatch test) */
};

static size_t count(const char *const *v, size_t max)
{
        size_t n = 0;
        while (n < max && v[n])
                n++;
        return n;
}

static void reg_build(struct reg *r)
{
        for (size_t i = 0; i < r->n; i++) {
                struct img *g = &r->v[i];
                g->m = (struct rk_image_manifest){.name = (char *)g->name};
                g->m.path_whitelist = (char **)g->pwl;
                g->m.n_path_whitelist = count(g->pwl, N(g->pwl));
                g->m.n_dependencies = count(g->deps, N(g->deps));
                g->m.dependencies = g->d;
                for (size_t j = 0; j < g->m.n_dependencies; j++)
                        g->d[j] = (struct rk_dependency){.image_name = (char *)g->deps[j]};
                if (g->ents) {
                        g->fd = tar_make(g->ents, g->n_ents, ARCHIVE_FILTER_NONE);
                        tar_id(g->ents, g->n_ents, g->id);
                } else {
                        g->fd = -1;
                        snprintf(g->id, sizeof(g->id), "sha512-%0128zx", i + 1);
                }
        }
}

static void reg_free(struct reg *r)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->v[i].fd >= 0)
                        close(r->v[i].fd);
}

static struct img *reg_find(struct reg *r, const char *name)
{
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->v[i].name, name) == 0)
                        return &r->v[i];
        return NULL;
}

static int resolve(void *userdata, const struct rk_dependency *dep,
                   char ret_id[RK_IMAGE_ID_LEN + 1], const struct rk_image_manifest **ret_m,
                   rk_error *err)
{
        struct reg *r = userdata;
        struct img *g = reg_find(r, dep->image_name);
        if (!g)
                return rk_err(err, -ENOENT, "no image '%s'", dep->image_name);
        snprintf(ret_id, RK_IMAGE_ID_LEN + 1, "%s", r->force_id ? r->force_id : g->id);
        *ret_m = &g->m;
        return 0;
}

static int plan(struct reg *r, const char *top, struct rk_render_layer **ret, size_t *ret_n,
                rk_error *err)
{
        struct img *g = reg_find(r, top);
        return rk_render_plan(g->id, &g->m, resolve, r, ret, ret_n, err);
}

static const char *name_by_id(struct reg *r, const char *id)
{
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->v[i].id, id) == 0)
                        return r->v[i].name;
        return "?";
}

static bool list_is(char **v, size_t n, const char *const *want, size_t nwant)
{
        if (!v || n != nwant)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], want[i]) != 0)
                        return false;
        return true;
}

/* ---- the plan ---- */

static void assert_order(struct reg *r, const char *top, const char *want)
{
        struct rk_render_layer *L = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        char got[128] = {0};

        if (plan(r, top, &L, &n, &err) < 0)
                fail_msg("%s", err.msg);
        for (size_t i = 0; i < n; i++) {
                strcat(got, name_by_id(r, L[i].image_id));
                strcat(got, i + 1 < n ? "," : "");
        }
        assert_string_equal(got, want);
        rk_render_plan_free(L, n);
}

/* appc.md §5: A -> [B, C], C -> [D] renders B, D, C, A (A wins): top-down A, C, D, B. */
static void test_order(void **state)
{
        struct img v[] = {{"A", .deps = {"B", "C"}}, {"B"}, {"C", .deps = {"D"}}, {"D"}};
        struct reg r = {v, N(v)};
        reg_build(&r);
        assert_order(&r, "A", "A,C,D,B");
        struct rk_render_layer *L;
        size_t n;
        assert_int_equal(plan(&r, "A", &L, &n, NULL), 0);
        assert_int_equal(L[0].level, 0);
        assert_int_equal(L[1].level, 1);
        assert_int_equal(L[2].level, 2);
        assert_int_equal(L[3].level, 1);
        assert_null(L[0].whitelist);
        assert_null(L[3].upper_whitelist);
        rk_render_plan_free(L, n);
        reg_free(&r);
        (void)state;
}

/* A -> [B, C], B -> [D], C -> [D] renders D, B, D, C, A: D twice, once per path. */
static void test_order_diamond(void **state)
{
        struct img v[] = {
            {"A", .deps = {"B", "C"}}, {"B", .deps = {"D"}}, {"C", .deps = {"D"}}, {"D"}};
        struct reg r = {v, N(v)};
        reg_build(&r);
        assert_order(&r, "A", "A,C,D,B,D");
        reg_free(&r);
        (void)state;
}

static void test_cycles_and_caps(void **state)
{
        struct img v[] = {
            {"A", .deps = {"B"}}, {"B", .deps = {"C"}}, {"C", .deps = {"A"}}, {"S", .deps = {"S"}}};
        struct reg r = {v, N(v)};
        struct rk_render_layer *L = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        reg_build(&r);
        assert_int_equal(plan(&r, "A", &L, &n, &err), -ELOOP);
        assert_non_null(strstr(err.msg, "image 'A'"));
        assert_non_null(strstr(err.msg, "dependency cycle"));
        assert_int_equal(plan(&r, "S", &L, &n, &err), -ELOOP);
        assert_null(L);

        /* a wide diamond lattice: 2^k paths to the bottom, capped at 64 layers */
        struct img w[7];
        const char *names[] = {"L0", "L1", "L2", "L3", "L4", "L5", "L6"};
        for (int i = 0; i < 7; i++) {
                w[i] = (struct img){names[i]};
                if (i < 6)
                        w[i].deps[0] = w[i].deps[1] = names[i + 1];
        }
        struct reg wr = {w, N(w)};
        reg_build(&wr);
        assert_int_equal(plan(&wr, "L0", &L, &n, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "more than 64 layers"));

        /* unresolvable, and resolved to the wrong image */
        struct img u[] = {{"A", .deps = {"nope"}}};
        struct reg ur = {u, N(u)};
        reg_build(&ur);
        assert_int_equal(plan(&ur, "A", &L, &n, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "image 'A': dependency 'nope': no image 'nope'"));
        struct img m[] = {{"A", .deps = {"B"}}, {"B"}};
        struct reg mr = {m, N(m)};
        reg_build(&mr);
        m[0].d[0].image_id = m[1].id;
        mr.force_id = m[0].id;
        assert_int_equal(plan(&mr, "A", &L, &n, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "resolved to"));
        (void)state;
}

static void test_whitelist_plan(void **state)
{
        struct img v[] = {{"A", .pwl = {"/b/", "/a", "//a/./"}, .deps = {"B"}},
                          {"B", .pwl = {"/a", "/c"}, .deps = {"C"}},
                          {"C"}};
        struct reg r = {v, N(v)};
        struct rk_render_layer *L;
        size_t n;
        rk_error err = RK_ERROR_INIT;
        reg_build(&r);
        assert_int_equal(plan(&r, "A", &L, &n, &err), 0);
        assert_int_equal(n, 3);
        static const char *const ab[] = {"/a", "/b"}, *const a[] = {"/a"};
        assert_true(list_is(L[0].whitelist, L[0].n_whitelist, ab, 2));
        assert_null(L[0].upper_whitelist);
        assert_true(list_is(L[1].whitelist, L[1].n_whitelist, a, 1));
        assert_true(list_is(L[1].upper_whitelist, L[1].n_upper_whitelist, ab, 2));
        assert_true(list_is(L[2].whitelist, L[2].n_whitelist, a, 1));
        assert_true(list_is(L[2].upper_whitelist, L[2].n_upper_whitelist, a, 1));
        rk_render_plan_free(L, n);

        struct img bad[] = {{"A", .pwl = {"/a/../../etc"}}};
        struct reg br = {bad, N(bad)};
        reg_build(&br);
        assert_int_equal(plan(&br, "A", &L, &n, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "pathWhitelist entry '/a/../../etc'"));
        (void)state;
}

/* The reference's getUpperPWLM cases. */
static void test_upper_whitelist(void **state)
{
        struct rk_render_layer *L;
        size_t n;
        static const char *const l0[] = {"/level0/1"};

        /* A (pwl) alone: nothing above it */
        struct img a[] = {{"A", .pwl = {"/level0/1"}}};
        struct reg ar = {a, N(a)};
        reg_build(&ar);
        assert_int_equal(plan(&ar, "A", &L, &n, NULL), 0);
        assert_null(L[0].upper_whitelist);
        rk_render_plan_free(L, n);

        /* A (pwl) -- B (pwl) -- C: C is filtered by both lists. The reference returns only A's
         * (the topmost); we intersect every ancestor's, as the spec words it, so disjoint lists
         * leave nothing. A list equal to A's on B gives A's. */
        struct img b[] = {{"A", .pwl = {"/level0/1"}, .deps = {"B"}},
                          {"B", .pwl = {"/level1/1"}, .deps = {"C"}},
                          {"C"}};
        struct reg br = {b, N(b)};
        reg_build(&br);
        assert_int_equal(plan(&br, "A", &L, &n, NULL), 0);
        assert_non_null(L[2].upper_whitelist);
        assert_int_equal(L[2].n_upper_whitelist, 0);
        rk_render_plan_free(L, n);
        b[1].pwl[0] = "/level0/1";
        reg_build(&br);
        assert_int_equal(plan(&br, "A", &L, &n, NULL), 0);
        assert_true(list_is(L[2].upper_whitelist, L[2].n_upper_whitelist, l0, 1));
        rk_render_plan_free(L, n);

        /* A -- B -- D, A -- C (pwl): C is D's uncle, not its ancestor */
        struct img c[] = {
            {"A", .deps = {"B", "C"}}, {"B", .deps = {"D"}}, {"C", .pwl = {"/level1/1"}}, {"D"}};
        struct reg cr = {c, N(c)};
        reg_build(&cr);
        assert_int_equal(plan(&cr, "A", &L, &n, NULL), 0);
        assert_int_equal(n, 4);
        assert_string_equal(L[3].image_id, c[3].id);
        assert_null(L[3].upper_whitelist);
        assert_null(L[3].whitelist);
        rk_render_plan_free(L, n);
        (void)state;
}

/* ---- rendering scenarios ---- */

/* Plan and extract "A" from the registry; returns the extractor's result. */
static int render(struct reg *r, struct scratch *s, bool forked, struct rk_aci_stats *ret_stats,
                  rk_error *err)
{
        struct rk_render_layer *L = NULL;
        struct rk_aci_layer layers[RK_ACI_MAX_LAYERS];
        struct rk_aci_result res[RK_ACI_MAX_LAYERS] = {{{0}}};
        struct rk_aci_opts o = {.dest_fd = s->dest, .keep_owners = true, .in_process = !forked};
        size_t n = 0;

        reg_build(r);
        int q = plan(r, "A", &L, &n, err);
        if (q < 0)
                return q;
        for (size_t i = 0; i < n; i++) {
                const char *name = name_by_id(r, L[i].image_id);
                rk_render_layer_to_aci(&L[i], reg_find(r, name)->fd, name, &layers[i]);
        }
        q = rk_aci_extract(layers, n, &o, res, err);
        if (q >= 0 && ret_stats) {
                memset(ret_stats, 0, sizeof(*ret_stats));
                for (size_t i = 0; i < n; i++) {
                        ret_stats->skipped_upper += res[i].stats.skipped_upper;
                        ret_stats->skipped_whitelist += res[i].stats.skipped_whitelist;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (q >= 0)
                        assert_string_equal(res[i].id, L[i].image_id);
                rk_aci_result_clear(&res[i]);
        }
        rk_render_plan_free(L, n);
        reg_free(r);
        return q;
}

/* Non-directories below d, recursively. */
static int count_files(int d)
{
        int fd = openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
        DIR *dir = fdopendir(fd);
        struct dirent *de;
        while ((de = readdir(dir))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW);
                if (S_ISDIR(st.st_mode)) {
                        int c = openat(dirfd(dir), de->d_name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        n += count_files(c);
                        close(c);
                } else
                        n++;
        }
        closedir(dir);
        return n;
}

static bool file_size(int d, const char *path, off_t size)
{
        struct stat st;
        return fstatat(d, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
               st.st_size == size;
}

typedef void (*check_fn)(int dest);

/* Run a scenario in both modes; check the tree (the manifest is the top image's). */
static void scenario(struct img *v, size_t n, check_fn check, int files)
{
        for (int forked = 0; forked < 2; forked++) {
                struct scratch *s = scratch_new();
                struct reg r = {v, n};
                rk_error err = RK_ERROR_INIT;
                if (render(&r, s, forked, NULL, &err) < 0)
                        fail_msg("%s", err.msg);
                assert_true(has_file(s->dest, "manifest", TEST_MANIFEST, 0644));
                check(s->dest);
                assert_int_equal(count_files(s->dest), files + 1);
                assert_true(scratch_intact(s));
                scratch_free(s);
        }
}

static const struct tent dep_dir_a[] = {T_MANIFEST, T_ROOTFS, {'d', "rootfs/a"}};
static const struct tent only_rootfs[] = {T_MANIFEST, T_ROOTFS};

static void check_dir_a(int d)
{
        assert_true(has_dir(d, "rootfs/a", 0755));
}

static void test_dir_from_parent(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = only_rootfs, .n_ents = N(only_rootfs)},
                          {"B", .ents = dep_dir_a, .n_ents = N(dep_dir_a)}};
        scenario(v, N(v), check_dir_a, 0);
        (void)state;
}

static void test_new_dir(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = dep_dir_a, .n_ents = N(dep_dir_a)},
                          {"B", .ents = only_rootfs, .n_ents = N(only_rootfs)}};
        scenario(v, N(v), check_dir_a, 0);
        (void)state;
}

static void check_dir_a_0700(int d)
{
        assert_true(has_dir(d, "rootfs/a", 0700));
}

static void test_dir_override(void **state)
{
        static const struct tent a[] = {T_MANIFEST, T_ROOTFS, {'d', "rootfs/a", NULL, 0700}};
        struct img v[] = {{"A", .deps = {"B"}, .ents = a, .n_ents = N(a)},
                          {"B", .ents = dep_dir_a, .n_ents = N(dep_dir_a)}};
        scenario(v, N(v), check_dir_a_0700, 0);
        (void)state;
}

static const struct tent file5[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs/a/file01.txt", "hello"}};
static const struct tent file10[] = {
    T_MANIFEST, T_ROOTFS, {'f', "rootfs/a/file01.txt", "hellohello"}};

static void check_file5(int d)
{
        assert_true(has_file(d, "rootfs/a/file01.txt", "hello", 0644));
}

static void check_file10(int d)
{
        assert_true(has_file(d, "rootfs/a/file01.txt", "hellohello", 0644));
}

static void test_file_from_parent(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = only_rootfs, .n_ents = N(only_rootfs)},
                          {"B", .ents = file5, .n_ents = N(file5)}};
        scenario(v, N(v), check_file5, 1);
        (void)state;
}

static void test_new_file(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = file10, .n_ents = N(file10)},
                          {"B", .ents = only_rootfs, .n_ents = N(only_rootfs)}};
        scenario(v, N(v), check_file10, 1);
        (void)state;
}

static void test_file_override(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = file10, .n_ents = N(file10)},
                          {"B", .ents = file5, .n_ents = N(file5)}};
        scenario(v, N(v), check_file10, 1);
        (void)state;
}

static void check_file_over_dir(int d)
{
        assert_true(has_file(d, "rootfs/a/b", "hellohello", 0644));
        assert_true(absent(d, "rootfs/a/b/c"));
}

/* An upper file where a dependency has a directory: nothing of the dependency's directory
 * is written, and nothing is written through the file. */
static void test_file_override_dir(void **state)
{
        static const struct tent a[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs/a/b", "hellohello"}};
        static const struct tent b[] = {T_MANIFEST,
                                        T_ROOTFS,
                                        {'d', "rootfs/a/b", NULL, 0700},
                                        {'d', "rootfs/a/b/c", NULL, 0700},
                                        {'f', "rootfs/a/b/c/file01", "hello"}};
        struct img v[] = {{"A", .deps = {"B"}, .ents = a, .n_ents = N(a)},
                          {"B", .ents = b, .n_ents = N(b)}};
        scenario(v, N(v), check_file_over_dir, 1);
        (void)state;
}

static const struct tent pwl_dep[] = {
    T_MANIFEST,
    T_ROOTFS,
    {'f', "rootfs/a/file01.txt", "hello"},
    {'f', "rootfs/a/file02.txt", "hello"},
    {'f', "rootfs/a/file03.txt", "hello"},
    {'l', "rootfs/b/link01.txt", "file01.txt"},
    {'d', "rootfs/c", NULL, 0700},
    {'f', "rootfs/c/file01.txt", "hello", 0700},
    {'d', "rootfs/d", NULL, 0700},
    {'f', "rootfs/d/file01.txt", "hello", 0700},
    {'f', "rootfs/e/file01.txt", "hello", 0700},
};

static void check_pwl_only_parent(int d)
{
        assert_true(has_file(d, "rootfs/a/file01.txt", "hello", 0644));
        assert_true(has_file(d, "rootfs/a/file02.txt", "hello", 0644));
        assert_true(absent(d, "rootfs/a/file03.txt"));
        assert_true(has_symlink(d, "rootfs/b/link01.txt", "file01.txt"));
        assert_true(file_size(d, "rootfs/b/file01.txt", 10));
        assert_true(has_dir(d, "rootfs/c", 0700));
        assert_true(absent(d, "rootfs/c/file01.txt"));
        assert_true(file_size(d, "rootfs/c/file02.txt", 5));
        assert_true(has_dir(d, "rootfs/d", 0700));
        assert_true(absent(d, "rootfs/d/file01.txt"));
        assert_true(absent(d, "rootfs/e"));
}

static void test_pwl_only_parent(void **state)
{
        static const struct tent a[] = {T_MANIFEST,
                                        T_ROOTFS,
                                        {'f', "rootfs/b/file01.txt", "hellohello"},
                                        {'f', "rootfs/c/file02.txt", "hello"}};
        struct img v[] = {{"A", .deps = {"B"}, .ents = a, .n_ents = N(a)},
                          {"B",
                           .pwl = {"/a/file01.txt", "/a/file02.txt", "/b/link01.txt", "/c/", "/d/"},
                           .ents = pwl_dep, .n_ents = N(pwl_dep)}};
        scenario(v, N(v), check_pwl_only_parent, 5);
        (void)state;
}

static void check_pwl_only_image(int d)
{
        assert_true(file_size(d, "rootfs/a/file01.txt", 10));
        assert_true(file_size(d, "rootfs/a/file02.txt", 5));
        assert_true(absent(d, "rootfs/a/file03.txt"));
        assert_true(has_symlink(d, "rootfs/b/link01.txt", "file01.txt"));
        /* the dependency's rootfs/c (0700) is not in the image's list: only the image's own
         * c/file02.txt and the directory made for it */
        assert_true(has_dir(d, "rootfs/c", 0755));
        assert_true(absent(d, "rootfs/c/file01.txt"));
        assert_true(file_size(d, "rootfs/c/file02.txt", 5));
        assert_true(has_dir(d, "rootfs/d", 0700));
        assert_true(absent(d, "rootfs/d/file01.txt"));
        assert_true(absent(d, "rootfs/e"));
}

static void test_pwl_only_image(void **state)
{
        static const struct tent a[] = {T_MANIFEST,
                                        T_ROOTFS,
                                        {'f', "rootfs/a/file01.txt", "hellohello"},
                                        {'f', "rootfs/c/file02.txt", "hello"}};
        struct img v[] = {{"A",
                           .pwl = {"/a/file01.txt", "/a/file02.txt", "/b/link01.txt",
                                   "/b/file01.txt", "/c/file02.txt", "/d/"},
                           .deps = {"B"}, .ents = a, .n_ents = N(a)},
                          {"B", .ents = pwl_dep, .n_ents = N(pwl_dep)}};
        scenario(v, N(v), check_pwl_only_image, 4);
        (void)state;
}

static const struct tent deps_b[] = {
    T_MANIFEST,
    T_ROOTFS,
    {'f', "rootfs/a/file01.txt", "hello"},
    {'f', "rootfs/a/file02.txt", "hello"},
    {'f', "rootfs/a/file03.txt", "hello"},
    {'f', "rootfs/a/file04.txt", "hello"},
    {'l', "rootfs/b/link01.txt", "file01.txt"},
};
static const struct tent deps_c[] = {
    T_MANIFEST,
    T_ROOTFS,
    {'f', "rootfs/a/file01.txt", "hellohello"},
    {'f', "rootfs/a/file02.txt", "hellohello"},
    {'f', "rootfs/b/file01.txt", "hello"},
};
static const struct tent deps_a[] = {
    T_MANIFEST,
    T_ROOTFS,
    {'f', "rootfs/a/file01.txt", "hellohellohello"},
    {'f', "rootfs/b/file02.txt", "hello"},
    {'f', "rootfs/c/file01.txt", "hello"},
};
#define DEPS_A_PWL                                                                                 \
        {                                                                                          \
                "/a/file01.txt", "/a/file02.txt", "/a/file03.txt", "/b/link01.txt",                \
                    "/b/file01.txt", "/b/file02.txt", "/c/file01.txt"                              \
        }

static void check_deps(int d)
{
        assert_true(file_size(d, "rootfs/a/file01.txt", 15));
        assert_true(file_size(d, "rootfs/a/file02.txt", 10));
        assert_true(file_size(d, "rootfs/a/file03.txt", 5));
        assert_true(absent(d, "rootfs/a/file04.txt"));
        assert_true(has_symlink(d, "rootfs/b/link01.txt", "file01.txt"));
        assert_true(file_size(d, "rootfs/b/file01.txt", 5));
        assert_true(file_size(d, "rootfs/b/file02.txt", 5));
        assert_true(file_size(d, "rootfs/c/file01.txt", 5));
        assert_true(absent(d, "rootfs/d"));
}

/* A (pwl) -> [B (pwl), C] */
static void test_2deps_1(void **state)
{
        struct img v[] = {
            {"A", .pwl = DEPS_A_PWL, .deps = {"B", "C"}, .ents = deps_a, .n_ents = N(deps_a)},
            {"B",
             .pwl = {"/a/file01.txt", "/a/file02.txt", "/a/file03.txt", "/a/file04.txt",
                     "/b/link01.txt", "/b/file01.txt"},
             .ents = deps_b, .n_ents = N(deps_b)},
            {"C", .ents = deps_c, .n_ents = N(deps_c)}};
        scenario(v, N(v), check_deps, 7);
        (void)state;
}

/* A (pwl) -> [B, C (pwl)] */
static void test_2deps_2(void **state)
{
        struct img v[] = {
            {"A", .pwl = DEPS_A_PWL, .deps = {"B", "C"}, .ents = deps_a, .n_ents = N(deps_a)},
            {"B", .ents = deps_b, .n_ents = N(deps_b)},
            {"C", .pwl = {"/a/file01.txt", "/a/file02.txt", "/b/file01.txt"}, .ents = deps_c,
             .n_ents = N(deps_c)}};
        scenario(v, N(v), check_deps, 7);
        (void)state;
}

/* A (pwl) -> [B, C], C -> [D]: D's directory d is not in A's list */
static void test_3deps(void **state)
{
        static const struct tent d[] = {T_MANIFEST,
                                        T_ROOTFS,
                                        {'f', "rootfs/a/file02.txt", "hello"},
                                        {'f', "rootfs/b/file01.txt", "hello"},
                                        {'d', "rootfs/d", NULL, 0700},
                                        {'f', "rootfs/d/file01.txt", "hello", 0700}};
        struct img v[] = {
            {"A", .pwl = DEPS_A_PWL, .deps = {"B", "C"}, .ents = deps_a, .n_ents = N(deps_a)},
            {"B", .ents = deps_b, .n_ents = N(deps_b)},
            {"C", .deps = {"D"}, .ents = deps_c, .n_ents = N(deps_c)},
            {"D", .ents = d, .n_ents = N(d)}};
        scenario(v, N(v), check_deps, 7);
        (void)state;
}

static void check_empty_rootfs(int d)
{
        assert_true(has_dir(d, "rootfs", 0700));
}

static void test_empty_rootfs(void **state)
{
        static const struct tent a[] = {T_MANIFEST, {'d', "rootfs", NULL, 0700}};
        struct img v[] = {{"A", .ents = a, .n_ents = N(a)}};
        scenario(v, N(v), check_empty_rootfs, 0);
        struct img w[] = {{"A", .pwl = {"foo"}, .ents = a, .n_ents = N(a)}};
        scenario(w, N(w), check_empty_rootfs, 0);
        (void)state;
}

/* What an upper layer wrote is never followed or overwritten: its symlink stays, nothing of
 * the dependency lands where the symlink points. */
static void check_upper_symlink(int d)
{
        assert_true(has_symlink(d, "rootfs/etc", "../../outside"));
        assert_true(has_file(d, "rootfs/f", "upper", 0644));
}

static void test_upper_never_followed(void **state)
{
        static const struct tent a[] = {
            T_MANIFEST, T_ROOTFS, {'l', "rootfs/etc", "../../outside"}, {'f', "rootfs/f", "upper"}};
        static const struct tent b[] = {T_MANIFEST,
                                        T_ROOTFS,
                                        {'d', "rootfs/etc", NULL, 0777},
                                        {'f', "rootfs/etc/passwd", "pwned"},
                                        {'l', "rootfs/f", "../../sentinel"},
                                        {'f', "rootfs/g", "lower"},
                                        {'h', "rootfs/etc/h", "rootfs/g"}};
        struct img v[] = {{"A", .deps = {"B"}, .ents = a, .n_ents = N(a)},
                          {"B", .ents = b, .n_ents = N(b)}};
        scenario(v, N(v), check_upper_symlink, 3);
        struct scratch *s = scratch_new();
        struct reg r = {v, N(v)};
        struct rk_aci_stats st;
        assert_int_equal(render(&r, s, false, &st, NULL), 0);
        /* rootfs, rootfs/etc, rootfs/etc/passwd, rootfs/f, rootfs/etc/h */
        assert_int_equal(st.skipped_upper, 5);
        scratch_free(s);
        (void)state;
}

/* A dependency whose content does not hash to the ID the plan expects is refused. */
static void test_layer_id_checked(void **state)
{
        struct img v[] = {{"A", .deps = {"B"}, .ents = only_rootfs, .n_ents = N(only_rootfs)},
                          {"B", .ents = file5, .n_ents = N(file5)}};
        struct scratch *s = scratch_new();
        struct reg r = {v, N(v)};
        struct rk_render_layer *L = NULL;
        struct rk_aci_layer layers[2];
        struct rk_aci_result res[2] = {{{0}}};
        struct rk_aci_opts o = {.dest_fd = s->dest, .in_process = true};
        size_t n;
        rk_error err = RK_ERROR_INIT;
        reg_build(&r);
        assert_int_equal(plan(&r, "A", &L, &n, &err), 0);
        rk_render_layer_to_aci(&L[0], v[0].fd, "A", &layers[0]);
        rk_render_layer_to_aci(&L[1], v[0].fd, "B", &layers[1]); /* A's bytes as B */
        assert_int_equal(rk_aci_extract(layers, 2, &o, res, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "'B': image ID mismatch"));
        rk_render_plan_free(L, n);
        reg_free(&r);
        scratch_free(s);
        (void)state;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_order),
            cmocka_unit_test(test_order_diamond),
            cmocka_unit_test(test_cycles_and_caps),
            cmocka_unit_test(test_whitelist_plan),
            cmocka_unit_test(test_upper_whitelist),
            cmocka_unit_test(test_dir_from_parent),
            cmocka_unit_test(test_new_dir),
            cmocka_unit_test(test_dir_override),
            cmocka_unit_test(test_file_from_parent),
            cmocka_unit_test(test_new_file),
            cmocka_unit_test(test_file_override),
            cmocka_unit_test(test_file_override_dir),
            cmocka_unit_test(test_pwl_only_parent),
            cmocka_unit_test(test_pwl_only_image),
            cmocka_unit_test(test_2deps_1),
            cmocka_unit_test(test_2deps_2),
            cmocka_unit_test(test_3deps),
            cmocka_unit_test(test_empty_rootfs),
            cmocka_unit_test(test_upper_never_followed),
            cmocka_unit_test(test_layer_id_checked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
