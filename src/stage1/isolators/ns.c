/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's namespaces. The outer process unshares only the PID namespace (it applies to its
 * child, the pod's init); init unshares the rest itself, so /proc/<init>/ns/ names every
 * namespace of the pod and `enter` can join them from the pid file alone.
 *
 * A new network namespace is the costliest step of a start (about half a millisecond here), so
 * init makes it after forking the apps, while they build their roots on the other CPU; each
 * app joins it before mounting /sys (sysfs shows the mounter's network namespace) and long
 * before it runs anything of its own. */
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>

#include "stage1/stage1.h"

/* A new network namespace has only "lo", and it is down. SIOCSIFFLAGS on any socket of the
 * namespace is all it takes; no netlink library needed. */
static int loopback_up(rk_error *err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "socket for the loopback interface");
        struct ifreq ifr = {0};
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return rk_err_errno(err, negative_errno(), "cannot read the flags of 'lo'");
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return rk_err_errno(err, negative_errno(), "cannot bring 'lo' up");
        return 0;
}

int s1_ns_pod_enter(const struct s1_plan *plan, rk_error *err)
{
        /* --private-users: UTS and IPC were made inside the pod's user namespace (userns.c) */
        bool userns = s1_userns_active();
        if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP | (userns ? 0 : CLONE_NEWUTS | CLONE_NEWIPC)) < 0)
                return rk_err_errno(err, negative_errno(), "cannot create the pod's namespaces");
        if (userns && s1_userns_join_pod_ns(err) < 0)
                return err->code;
        /* First thing in the new mount namespace: nothing mounted for the pod may propagate
         * back to the host (the host's mounts still reach us: slave, not private). */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return rk_err_errno(err, negative_errno(), "cannot make / a slave mount");
        if (sethostname(plan->hostname, strlen(plan->hostname)) < 0)
                return rk_err_errno(err, negative_errno(), "cannot set the hostname");
        return 0;
}

int s1_ns_pod_net(rk_error *err)
{
        if (s1_userns_active())
                return s1_userns_join_net(err);
        if (unshare(CLONE_NEWNET) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot create the pod's network "
                                    "namespace");
        return loopback_up(err);
}

int s1_ns_app_enter(rk_error *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot create the app's mount "
                                    "namespace");
        /* The app's mounts are its own: they reach neither the host nor the other apps. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return rk_err_errno(err, negative_errno(), "cannot make / a private mount");
        return 0;
}

int s1_ns_app_join_net(int ready_fd, rk_error *err)
{
        char c;
        ssize_t n;
        while ((n = read(ready_fd, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1)
                return rk_err(err, -ENETDOWN, "the pod's network namespace was not made");
        /* PID 1 of our PID namespace is the pod's init, which now holds the namespace. */
        _cleanup_close_ int init = pidfd_open(1, 0);
        if (init < 0 || setns(init, CLONE_NEWNET) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot join the pod's network "
                                    "namespace");
        return 0;
}
