/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The stage0 -> stage1 plan (PLAN.md, version 1): a strict reader. Every string points into
 * the parsed JSON document, which the plan owns; nothing here touches the filesystem except
 * s1_plan_load(). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define S1_PLAN_VERSION   1
#define S1_PLAN_MAX_BYTES (4u << 20)
#define S1_MAX_APPS       64
#define S1_MAX_ARGS       4096
#define S1_MAX_ENV        1024
#define S1_MAX_GROUPS     256
#define S1_MAX_HANDLERS   32
#define S1_MAX_MOUNTS     128
#define S1_MAX_NAME       128
#define S1_MAX_HOSTNAME   63
#define S1_MAX_BPF_BYTES  (4096u * 8)   /* the kernel's BPF_MAXINSNS */
#define S1_MAX_ARG_BYTES  (128u * 1024) /* the kernel's MAX_ARG_STRLEN */

/* none: own netns with lo; host: the host's; default / default-restricted: own netns plus a
 * veth pair to the host (isolators/net.c), addresses and NAT chosen by stage0. */
/* cni: own netns with lo, then the named CNI networks of "cni" (isolators/cni.c), attached by
 * the outer rkt-stage1 process. */
enum s1_net { S1_NET_NONE, S1_NET_HOST, S1_NET_DEFAULT, S1_NET_RESTRICTED, S1_NET_CNI };
/* "dns" / "hosts" (PLAN.md, "DNS and hosts"): absent (DEFAULT), the host's file, none (dns
 * only: the image's own file), or what the plan lists. */
enum s1_etc_mode { S1_ETC_DEFAULT, S1_ETC_HOST, S1_ETC_NONE, S1_ETC_LIST };
enum s1_mount_kind { S1_MOUNT_HOST, S1_MOUNT_EMPTY };

/* A NULL-terminated argument vector (exec, env, handlers). */
struct s1_argv {
        char **v;
        size_t n;
};

struct s1_mount {
        const char *source; /* absolute host path, canonical */
        const char *target; /* absolute path in the app, canonical, not "/" */
        bool read_only, recursive;
        enum s1_mount_kind kind;
};

struct s1_app {
        const char *name; /* AC Name, unique in the pod */
        const char *image;
        const char *tree; /* absolute host path of the rendered rootfs */
        const char *working_dir;
        bool read_only_rootfs;
        struct s1_argv exec, env;
        uid_t uid;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        struct s1_argv *pre_start, *post_stop;
        size_t n_pre_start, n_post_stop;
        struct s1_mount *mounts;
        size_t n_mounts;
        /* Capability sets, bit n = capability n; absent in the plan: all empty. */
        uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
        bool no_new_privs; /* absent: true */
        /* The seccomp filter: its file in the pod dir and the SHA-512 hex it must have; absent
         * (--insecure-options=seccomp): NULL. s1_plan_load reads and checks it into prog. */
        const char *seccomp_bpf, *seccomp_sha512;
        void *seccomp_prog;
        size_t seccomp_len; /* bytes, a multiple of 8 (struct sock_filter) */
        /* Landlock (isolators/landlock.c): absent in the plan: true. */
        bool landlock;
        /* SELinux labels (PLAN.md): NULL when the plan has none (SELinux disabled). */
        const char *selinux_process, *selinux_mount;
        /* "cgroup" limits (PLAN.md, "Cgroups"); 0: not limited. */
        int64_t cg_memory_max, cg_cpu_milli, cg_cpu_shares, cg_pids_max;
        int oom_score_adj;
        bool has_oom_score_adj;
};

struct s1_plan {
        json_t *root;
        const char *uuid, *hostname;
        enum s1_net net;
        /* "network" (default, default-restricted only): the pod's IPv4 address, the gateway
         * (the host end of the veth), the network's subnet, and whether the pod gets a default
         * route (else only a route to the subnet through the gateway). Network byte order. */
        uint32_t net_ip, net_gateway, net_subnet;
        unsigned net_prefix;
        bool net_default_route;
        bool interactive, detached, no_overlay;
        /* --private-users: the pod's user namespace maps 0..userns_size-1 to uid_base.. and
         * gid_base..; userns_chown forces the chown'ed copy instead of an idmapped mount. */
        bool userns, userns_chown;
        uint32_t uid_base, gid_base, userns_size;
        bool cgroups_optional; /* --insecure-options=cgroups: a missing controller is a warning */
        /* DNS: with S1_ETC_LIST, arrays of checked strings (borrowed from root). */
        enum s1_etc_mode dns, hosts;
        const json_t *dns_nameservers, *dns_search, *dns_options;
        const json_t *hosts_entries; /* [{"ip": IP, "names": [NAME, ...]}, ...] */
        /* "cni" (net cni only): [{"name", "ifname": "eth<i>", "args": CNI_ARGS, "config":
         * conflist}], each checked (src/lib/pod/cni.h); borrowed from root. */
        const json_t *cni;
        size_t n_cni;
        unsigned mds_port; /* "mds": {"port": N} (own network only): isolators/mds.c; 0: none */
        struct s1_app *apps;
        size_t n_apps;
};

/* Parse and validate a plan document. */
int s1_plan_parse(const char *buf, size_t len, struct s1_plan **ret, rk_error *err);
/* Read <pod>/plan.json (a regular file owned by us, not writable by group or others). */
int s1_plan_load(int pod_fd, struct s1_plan **ret, rk_error *err);
struct s1_plan *s1_plan_free(struct s1_plan *p);
static inline void s1_plan_freep(struct s1_plan **p)
{
        *p = s1_plan_free(*p);
}
