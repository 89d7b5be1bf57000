/* SPDX-License-Identifier: Apache-2.0 */
/* appc seccomp sets (src/lib/pod/seccomp-set.c): every form of --seccomp= and of the
 * isolators parses or is refused with a message naming the bad word; the profiles built from
 * them compile; and loaded into a child they do what profiles/README.md says (the hardening of
 * the default profile stays). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aci/isolator.h"
#include "pod/seccomp.h"

static void parses(const char *arg, bool retain, size_t n, const char *errno_name)
{
        struct rk_seccomp_set s = {0};
        rk_error err = RK_ERROR_INIT;
        if (rk_seccomp_parse_opt(arg, &s, &err) != 0)
                fail_msg("'%s': %s", arg, err.msg);
        assert_int_equal(s.retain, retain);
        assert_int_equal(s.n, n);
        if (errno_name)
                assert_string_equal(s.errno_name, errno_name);
        else
                assert_null(s.errno_name);
        /* the profile for it compiles */
        char *p = NULL;
        size_t len = 0;
        unsigned flags = 0;
        assert_int_equal(rk_seccomp_set_profile(&s, true, &p, &len, &flags, &err), 0);
        void *bpf = NULL;
        size_t bl = 0;
        if (rk_seccomp_compile_flags(p, len, flags, &bpf, &bl, &err) != 0)
                fail_msg("'%s': %s", arg, err.msg);
        assert_true(bl > 0 && bl % 8 == 0 && bl <= 4096 * 8);
        free(bpf);
        free(p);
        rk_seccomp_set_clear(&s);
}

static void refused(const char *arg, const char *what)
{
        struct rk_seccomp_set s = {0};
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_seccomp_parse_opt(arg, &s, &err), -EINVAL);
        assert_null(s.names);
        if (!strstr(err.msg, what) || strchr(err.msg, '\n'))
                fail_msg("'%s': '%s' does not name '%s'", arg, err.msg, what);
}

static void test_opt_forms(void **state)
{
        parses("mode=retain,read,write", true, 2, NULL);
        parses("mode=retain,errno=EACCES,@docker/default-whitelist,chroot", true, 2, "EACCES");
        parses("errno=ENOTSUP,mode=retain,@rkt/default-whitelist", true, 1, "ENOTSUP");
        parses("mode=retain,@appc.io/all", true, 1, NULL);
        parses("mode=remove,chroot", false, 1, NULL);
        parses("mode=remove,errno=EPERM,@rkt/default-blacklist,chroot", false, 2, "EPERM");
        parses("mode=remove,@docker/default-blacklist", false, 1, NULL);
        parses("mode=remove,@appc.io/empty", false, 1, NULL);
        parses("mode=remove,errno=EWOULDBLOCK,clone,clone3,mount", false, 3, "EWOULDBLOCK");
}

static void test_opt_errors(void **state)
{
        refused("", "mode=retain|remove");
        refused("read,write", "mode=retain or mode=remove is required");
        refused("mode=keep,read", "'keep'");
        refused("mode=retain,mode=remove,read", "mode given twice");
        refused("mode=retain,no_such_call", "unknown syscall 'no_such_call'");
        refused("mode=retain,READ", "unknown syscall 'READ'");
        refused("mode=retain,@rkt/no-such-group", "unknown syscall group '@rkt/no-such-group'");
        refused("mode=retain,@systemd/clock", "'@systemd/clock'");
        refused("mode=retain,errno=EACCESS,read", "unknown errno 'EACCESS'");
        refused("mode=retain,errno=eperm,read", "'eperm'");
        refused("mode=retain,errno=EPERM,errno=EACCES,read", "errno given twice");
        refused("mode=retain,read,read", "'read' is listed twice");
        refused("mode=remove,@appc.io/all", "only valid in a retain-set");
        refused("mode=retain,@appc.io/empty", "only valid in a remove-set");
        refused("mode=retain,@appc.io/all,read", "cannot be combined");
        refused("mode=retain,flags=1,read", "unknown option 'flags=1'");
        refused("mode=retain", "no syscall or @group");
        refused("mode=retain,errno=EPERM", "no syscall or @group");
}

static void test_errno_names(void **state)
{
        assert_int_equal(rk_seccomp_errno_number("EPERM"), EPERM);
        assert_int_equal(rk_seccomp_errno_number("EACCES"), EACCES);
        assert_int_equal(rk_seccomp_errno_number("ENOSYS"), ENOSYS);
        assert_int_equal(rk_seccomp_errno_number("ENOTSUP"), ENOTSUP);
        assert_int_equal(rk_seccomp_errno_number("EOPNOTSUPP"), EOPNOTSUPP);
        assert_int_equal(rk_seccomp_errno_number("EWOULDBLOCK"), EAGAIN);
        assert_int_equal(rk_seccomp_errno_number("EHWPOISON"), EHWPOISON);
        assert_int_equal(rk_seccomp_errno_number("EACCESS"), -EINVAL);
        assert_int_equal(rk_seccomp_errno_number("E"), -EINVAL);
        assert_int_equal(rk_seccomp_errno_number("perm"), -EINVAL);
        assert_true(rk_seccomp_group_known("@rkt/default-whitelist"));
        assert_true(rk_seccomp_group_known("@docker/default-whitelist"));
        assert_true(rk_seccomp_group_known("@rkt/default-blacklist"));
        assert_true(rk_seccomp_group_known("@docker/default-blacklist"));
        assert_false(rk_seccomp_group_known("@appc.io/all"));
        assert_false(rk_seccomp_group_known("@docker/default"));
        assert_false(rk_seccomp_group_known("@rkt/default-whitelis"));
}

/* The isolators: the same checks, with the app named; retain and remove together refused. */
static int iso(const char *json, struct rk_seccomp_set *s, rk_error *err)
{
        json_error_t je;
        json_t *arr = json_loads(json, 0, &je);
        assert_non_null(arr);
        struct rk_isolators l = {0};
        int r = rk_isolators_parse(arr, RK_ISOLATOR_SCOPE_APP, "app.isolators", &l, err);
        json_decref(arr);
        if (r < 0)
                return r;
        r = rk_seccomp_set_from_isolators(&l, "app x", s, err);
        rk_isolators_clear(&l);
        return r;
}

static void test_isolators(void **state)
{
        struct rk_seccomp_set s = {0};
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(iso("[]", &s, &err), 0);
        assert_int_equal(iso("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":"
                             "[\"@rkt/default-whitelist\",\"chroot\"],\"errno\":\"EACCES\"}}]",
                             &s, &err),
                         1);
        assert_true(s.retain);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.errno_name, "EACCES");
        rk_seccomp_set_clear(&s);
        assert_int_equal(iso("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":"
                             "[\"chroot\"],\"errno\":\"\"}}]",
                             &s, &err),
                         1);
        assert_false(s.retain);
        assert_null(s.errno_name);
        rk_seccomp_set_clear(&s);
        assert_true(
            iso("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"]}},"
                "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"read\"]}}]",
                &s, &err) < 0);
        assert_non_null(strstr(err.msg, "seccomp"));
        assert_int_equal(iso("[{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":"
                             "[\"no_such_call\"]}}]",
                             &s, &err),
                         -EINVAL);
        assert_non_null(strstr(err.msg, "app x: os/linux/seccomp-retain-set: unknown syscall"));
        assert_int_equal(iso("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":"
                             "[\"@rkt/nope\"]}}]",
                             &s, &err),
                         -EINVAL);
        assert_non_null(strstr(err.msg, "'@rkt/nope'"));
        assert_int_equal(iso("[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":"
                             "[\"chroot\"],\"errno\":\"ENOPE\"}}]",
                             &s, &err),
                         -EINVAL);
        assert_non_null(strstr(err.msg, "unknown errno 'ENOPE'"));
        assert_null(s.names);
}

/* ---- behaviour: the filter loaded into a child ---- */

static void *filter_for(const char *arg, bool nnp, size_t *len)
{
        struct rk_seccomp_set s = {0};
        rk_error err = RK_ERROR_INIT;
        if (rk_seccomp_parse_opt(arg, &s, &err) != 0)
                fail_msg("%s", err.msg);
        char *p = NULL;
        size_t plen = 0;
        unsigned flags = 0;
        assert_int_equal(rk_seccomp_set_profile(&s, nnp, &p, &plen, &flags, &err), 0);
        void *bpf = NULL;
        if (rk_seccomp_compile_flags(p, plen, flags, &bpf, len, &err) != 0)
                fail_msg("%s: %s", arg, err.msg);
        free(p);
        rk_seccomp_set_clear(&s);
        return bpf;
}

enum call {
        GETPPID,
        SETHOSTNAME,
        CHROOT,
        MOUNT,
        CLONE_NEWUSER_,
        CLONE3,
        KEYCTL,
        SYSLOG,
        I386_GETPID
};

/* errno of the call under the filter; 0 if it succeeded; -SIG if the child was killed */
static int under(const void *bpf, size_t len, enum call c)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sock_fprog prog = {.len = (unsigned short)(len / 8),
                                          .filter = (struct sock_filter *)bpf};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        syscall(SYS_exit_group, 255);
                long r = -1;
                errno = 0;
                switch (c) {
                case GETPPID:
                        r = syscall(SYS_getppid);
                        break;
                case SETHOSTNAME: /* too long: EINVAL (or EPERM without the capability) */
                        r = syscall(SYS_sethostname, "x", 100000);
                        break;
                case CHROOT:
                        r = syscall(SYS_chroot, "/nonexistent-rkt-test");
                        break;
                case MOUNT:
                        r = syscall(SYS_mount, "none", "/nonexistent-rkt-test", "tmpfs", 0, NULL);
                        break;
                case CLONE_NEWUSER_:
                        r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
                        if (r == 0)
                                syscall(SYS_exit_group, 0);
                        break;
                case CLONE3:
                        r = syscall(SYS_clone3, NULL, 0);
                        break;
                case KEYCTL:
                        r = syscall(SYS_keyctl, 0, -3, 0);
                        break;
                case SYSLOG: /* SYSLOG_ACTION_SIZE_BUFFER */
                        r = syscall(SYS_syslog, 10, NULL, 0);
                        break;
                case I386_GETPID: /* the i386 ABI from a 64-bit process (getpid is 20 there) */
                        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
                        r = r < 0 ? (errno = (int)-r, -1) : 0;
                        break;
                }
                /* the raw call: a sanitizer's _exit hook would need calls the filter denies */
                syscall(SYS_exit_group, r < 0 ? errno & 0xff : 0);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
                return -WTERMSIG(st);
        assert_int_not_equal(WEXITSTATUS(st), 255);
        return WEXITSTATUS(st);
}

static void test_retain_behaviour(void **state)
{
        size_t n = 0;
        void *f = filter_for(
            "mode=retain,errno=EACCES,@docker/default-whitelist,chroot,mount,clone", true, &n);
        assert_int_equal(under(f, n, GETPPID), 0);
        assert_int_equal(under(f, n, CHROOT), ENOENT);         /* listed: reaches the kernel */
        assert_int_equal(under(f, n, SETHOSTNAME), EACCES);    /* not listed: the errno */
        assert_int_equal(under(f, n, SYSLOG), EACCES);         /* not listed */
        assert_int_equal(under(f, n, MOUNT), EPERM);           /* listed, but always denied */
        assert_int_equal(under(f, n, KEYCTL), EPERM);          /* always denied */
        assert_int_equal(under(f, n, CLONE_NEWUSER_), EACCES); /* namespace flags masked */
        assert_int_equal(under(f, n, CLONE3), ENOSYS);         /* libc falls back to clone */
        assert_int_equal(under(f, n, I386_GETPID), -SIGSYS);
        free(f);
        /* no errno: a call outside the set kills the process */
        f = filter_for("mode=retain,@rkt/default-whitelist", true, &n);
        assert_int_equal(under(f, n, GETPPID), 0);
        assert_int_equal(under(f, n, SETHOSTNAME), -SIGSYS);
        assert_int_equal(under(f, n, CLONE3), ENOSYS);
        free(f);
        /* the life-cycle calls are in every retain-set: this one holds only getppid */
        f = filter_for("mode=retain,errno=EPERM,getppid", true, &n);
        assert_int_equal(under(f, n, GETPPID), 0);
        assert_int_equal(under(f, n, CHROOT), EPERM);
        free(f);
        /* @appc.io/all: everything but the hardening */
        f = filter_for("mode=retain,@appc.io/all", true, &n);
        assert_int_equal(under(f, n, GETPPID), 0);
        assert_int_not_equal(under(f, n, SYSLOG), ENOSYS); /* the default profile: ENOSYS */
        assert_int_equal(under(f, n, CHROOT), ENOENT);
        assert_int_equal(under(f, n, KEYCTL), EPERM);
        assert_int_equal(under(f, n, CLONE_NEWUSER_), EPERM);
        assert_int_equal(under(f, n, CLONE3), ENOSYS);
        assert_int_equal(under(f, n, I386_GETPID), -SIGSYS); /* compat ABIs stay killed */
        free(f);
}

static void test_remove_behaviour(void **state)
{
        size_t n = 0;
        void *f = filter_for("mode=remove,errno=EACCES,chroot,getppid", true, &n);
        assert_int_equal(under(f, n, GETPPID), EACCES);
        assert_int_equal(under(f, n, CHROOT), EACCES);
        assert_int_equal(under(f, n, SYSLOG), ENOSYS); /* as in the default profile */
        assert_int_equal(under(f, n, KEYCTL), EPERM);
        assert_int_equal(under(f, n, CLONE3), ENOSYS);
        free(f);
        f = filter_for("mode=remove,getppid", true, &n);
        assert_int_equal(under(f, n, GETPPID), -SIGSYS);
        assert_int_equal(under(f, n, CHROOT), ENOENT);
        free(f);
        /* removing an always-denied call changes only its errno */
        f = filter_for("mode=remove,errno=EACCES,keyctl", true, &n);
        assert_int_equal(under(f, n, KEYCTL), EACCES);
        free(f);
}

/* @appc.io/empty is the default profile itself: same text, same digest, same cache file. */
static void test_empty_is_default(void **state)
{
        struct rk_seccomp_set s = {0};
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_seccomp_parse_opt("mode=remove,errno=EPERM,@appc.io/empty", &s, &err),
                         0);
        char *p = NULL;
        size_t len = 0;
        unsigned flags = 1;
        assert_int_equal(rk_seccomp_set_profile(&s, true, &p, &len, &flags, &err), 0);
        assert_int_equal(flags, 0);
        assert_int_equal(len, rk_seccomp_default_profile_len());
        assert_memory_equal(p, rk_seccomp_default_profile, len);
        free(p);
        rk_seccomp_set_clear(&s);
        /* a profile file may not default to ALLOW; only the generated @appc.io/all one does */
        const char *allow = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}";
        void *bpf = NULL;
        assert_int_equal(rk_seccomp_compile(allow, strlen(allow), &bpf, &len, &err), -EINVAL);
}

/* --seccomp-profile: size cap, strict parse, the file named */
static void test_profile_file(void **state)
{
        char path[] = "/tmp/rkt-test-seccomp-profile-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char *bad = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                          "[\"read\",\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
        assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
        char *buf = NULL;
        size_t len = 0;
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_seccomp_profile_load(path, &buf, &len, &err), -EINVAL);
        assert_null(buf);
        assert_non_null(strstr(err.msg, "--seccomp-profile"));
        assert_non_null(strstr(err.msg, "\"read\" listed twice"));
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(
            pwrite(fd, rk_seccomp_default_profile, rk_seccomp_default_profile_len(), 0),
            (ssize_t)rk_seccomp_default_profile_len());
        assert_int_equal(rk_seccomp_profile_load(path, &buf, &len, &err), 0);
        assert_int_equal(len, rk_seccomp_default_profile_len());
        free(buf);
        assert_int_equal(ftruncate(fd, RK_SECCOMP_PROFILE_MAX + 1), 0);
        buf = NULL;
        assert_true(rk_seccomp_profile_load(path, &buf, &len, &err) < 0);
        assert_null(buf);
        close(fd);
        unlink(path);
        assert_int_equal(rk_seccomp_profile_load(path, &buf, &len, &err), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_opt_forms),        cmocka_unit_test(test_opt_errors),
            cmocka_unit_test(test_errno_names),      cmocka_unit_test(test_isolators),
            cmocka_unit_test(test_retain_behaviour), cmocka_unit_test(test_remove_behaviour),
            cmocka_unit_test(test_empty_is_default), cmocka_unit_test(test_profile_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
