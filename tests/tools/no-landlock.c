/* SPDX-License-Identifier: Apache-2.0 */
/* no-landlock CMD [ARGS...]: run CMD where landlock_* syscalls fail with ENOSYS, as on a
 * kernel built without Landlock (the seccomp filter is inherited by every descendant). For
 * the fallback test in tests/integration/85-landlock-selinux.bats. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: no-landlock CMD [ARGS...]\n");
                return 2;
        }
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_create_ruleset), 0) <
                0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_add_rule), 0) < 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(landlock_restrict_self), 0) <
                0 ||
            seccomp_load(ctx) < 0) {
                fprintf(stderr, "no-landlock: cannot load the filter\n");
                return 125;
        }
        seccomp_release(ctx);
        execvp(argv[1], argv + 1);
        perror("no-landlock: exec");
        return 127;
}
