/* SPDX-License-Identifier: Apache-2.0 */
/* probe: what a process sees from inside a pod, for the integration and security tests.
 *
 *   probe                      one JSON object: ids, capabilities, no_new_privs, seccomp,
 *                              namespaces, hostname, cwd, environment, open fds, mounts,
 *                              pid and ppid
 *   probe syscall NAME...      try each named syscall harmlessly (in a child, with arguments
 *                              that make it fail after the permission check); prints
 *                              {"syscalls": {"NAME": "OK" | "EPERM" | ... | "SIGSYS"}}
 *   probe write PATH           try to create and write PATH; {"write": {"path", "result"}}
 *   probe exit N               exit with status N
 *   probe kill SIG             kill itself with SIG (a number or a name: KILL, TERM, SEGV, ...)
 *   probe open PATH [w]        open PATH for reading (w: writing, no create); prints
 *                              {"open": {"path", "result", "data"}} with up to 64 bytes read
 *   probe landlock             {"landlock": {"abi": N | "ENOSYS" | ...}}
 *   probe stat PATH            lstat PATH; {"stat": {"path", "result", "uid", "gid", "mode"}}
 *   probe unshare-user         try unshare(CLONE_NEWUSER) in a child; {"unshare-user": "OK" |
 * errno}
 *   probe forkbomb [MAX]       fork idle children until fork fails (or MAX, default 10000),
 *                              kill them; {"forkbomb": {"forked": N, "errno": "EAGAIN"|"OK"}}
 *   probe alloc MIB            allocate and touch MIB MiB; {"alloc": {"mib": N}} if it lives
 *   probe cgmount              try mounting cgroup v1 (memory) and cgroup2 on /probe-cg;
 *                              {"cgmount": {"cgroup": errno, "cgroup2": errno}}
 *   probe all                  the report, then a second line: {"cgroup": [...], "attr": "...",
 *                              "uid_map": [...], "gid_map": [...], "limits": [...],
 *                              "oom_score_adj": [...]} (what
 *                              rkt enter must reproduce beyond the report)
 *   probe serve                "probe all", then sleep until a signal ends it (a detached
 *                              app that stays running for rkt enter and rkt stop)
 *
 * Built static (libc and raw syscalls only) so any test image can carry it. Every string is
 * JSON-escaped; the output is one line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- JSON output ---- */

static void put_str(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        printf("\\u%04x", *p);
                else
                        putchar(*p);
        }
        putchar('"');
}

static void put_key(const char *k, bool *first)
{
        if (!*first)
                putchar(',');
        *first = false;
        put_str(k);
        putchar(':');
}

static const char *errno_name(int e)
{
        static char buf[16];
        const char *n = e ? strerrorname_np(e) : "OK";
        if (n)
                return n;
        snprintf(buf, sizeof(buf), "E%d", e);
        return buf;
}

/* ---- the default report ---- */

static void put_ids(bool *first)
{
        uid_t r, e, s;
        gid_t gr, ge, gs;
        gid_t groups[NGROUPS_MAX];
        int n = getgroups(NGROUPS_MAX, groups);
        getresuid(&r, &e, &s);
        getresgid(&gr, &ge, &gs);
        put_key("uid", first);
        printf("{\"real\":%u,\"effective\":%u,\"saved\":%u}", r, e, s);
        put_key("gid", first);
        printf("{\"real\":%u,\"effective\":%u,\"saved\":%u}", gr, ge, gs);
        put_key("groups", first);
        putchar('[');
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        putchar(']');
}

/* The security-relevant lines of /proc/self/status, values as strings. */
static void put_status(bool *first)
{
        static const char *const keys[] = {"CapInh", "CapPrm",     "CapEff",  "CapBnd",
                                           "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"};
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");
        while (f && fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                        if (strcmp(line, keys[i]) != 0)
                                continue;
                        char *v = colon + 1;
                        v += strspn(v, " \t");
                        v[strcspn(v, "\n")] = 0;
                        put_key(keys[i], first);
                        put_str(v);
                }
        }
        if (f)
                fclose(f);
}

static void put_namespaces(bool *first)
{
        DIR *d = opendir("/proc/self/ns");
        struct dirent *de;
        bool f2 = true;
        put_key("namespaces", first);
        putchar('{');
        while (d && (de = readdir(d))) {
                struct stat st;
                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                        continue;
                put_key(de->d_name, &f2);
                printf("%llu", (unsigned long long)st.st_ino);
        }
        putchar('}');
        if (d)
                closedir(d);
}

static void put_fds(bool *first)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        bool f2 = true;
        put_key("fds", first);
        putchar('{');
        while (d && (de = readdir(d))) {
                char target[PATH_MAX];
                if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
                        continue;
                ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = 0;
                put_key(de->d_name, &f2);
                put_str(target);
        }
        putchar('}');
        if (d)
                closedir(d);
}

static void put_lines(const char *key, const char *path, bool *first)
{
        char line[4096];
        bool f2 = true;
        FILE *f = fopen(path, "re");
        put_key(key, first);
        putchar('[');
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (!f2)
                        putchar(',');
                f2 = false;
                put_str(line);
        }
        putchar(']');
        if (f)
                fclose(f);
}

static int report(void)
{
        bool first = true;
        char cwd[PATH_MAX];
        struct utsname u;
        putchar('{');
        put_ids(&first);
        put_status(&first);
        put_namespaces(&first);
        put_key("hostname", &first);
        put_str(uname(&u) == 0 ? u.nodename : "");
        put_key("cwd", &first);
        put_str(getcwd(cwd, sizeof(cwd)) ? cwd : "");
        put_key("env", &first);
        putchar('[');
        for (char **e = environ; e && *e; e++) {
                if (e != environ)
                        putchar(',');
                put_str(*e);
        }
        putchar(']');
        put_fds(&first);
        put_lines("mountinfo", "/proc/self/mountinfo", &first);
        put_key("pid", &first);
        printf("%d", (int)getpid());
        put_key("ppid", &first);
        printf("%d", (int)getppid());
        printf("}\n");
        return 0;
}

/* ---- probe syscall NAME... ---- */

/* Each attempt uses arguments that fail after the kernel's permission check, so "allowed"
 * shows as EINVAL/ENOENT/EBADF rather than as a change to the system, and "denied" as EPERM
 * (capability or seccomp) or ENOSYS (seccomp). The few that could succeed (unshare, ptrace,
 * userfaultfd, socket) only affect the child that makes them. */
static long try_syscall(const char *name)
{
        if (!strcmp(name, "mount-fs")) /* EPERM without CAP_SYS_ADMIN, else ENODEV */
                return mount("none", "/", "probe-no-such-fs", 0, NULL);
        if (!strcmp(name, "mknod"))
                return mknod("/probe-mknod-test", S_IFCHR | 0600, makedev(1, 3));
        if (!strcmp(name, "mount"))
                return mount("none", "/nonexistent-probe-target", "tmpfs", 0, NULL);
        if (!strcmp(name, "umount2"))
                return umount2("/nonexistent-probe-target", 0);
        if (!strcmp(name, "unshare"))
                return unshare(CLONE_NEWUSER);
        if (!strcmp(name, "unshare-mount"))
                return unshare(CLONE_NEWNS);
        if (!strcmp(name, "ptrace"))
                return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        if (!strcmp(name, "keyctl"))
                return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
        if (!strcmp(name, "add_key"))
                return syscall(SYS_add_key, "probe-no-such-type", "probe", "x", 1, -2);
        if (!strcmp(name, "bpf"))
                return syscall(SYS_bpf, 0 /* MAP_CREATE */, NULL, 0);
        if (!strcmp(name, "io_uring_setup"))
                return syscall(SYS_io_uring_setup, 0, NULL);
        if (!strcmp(name, "userfaultfd"))
                return syscall(SYS_userfaultfd, O_CLOEXEC);
        if (!strcmp(name, "reboot")) /* a bad magic number: EINVAL once permitted */
                return syscall(SYS_reboot, 0, 0, 0, NULL);
        if (!strcmp(name, "kexec_load")) /* invalid flags: EINVAL once permitted */
                return syscall(SYS_kexec_load, 0, 1000000, NULL, 0xdead0000UL);
        if (!strcmp(name, "socket"))
                return socket(AF_PACKET, SOCK_RAW, 0);
        if (!strcmp(name, "setns"))
                return setns(-1, 0);
        if (!strcmp(name, "chroot"))
                return chroot("/nonexistent-probe-target");
        if (!strcmp(name, "pivot_root"))
                return syscall(SYS_pivot_root, "/nonexistent-probe-a", "/nonexistent-probe-b");
        if (!strcmp(name, "sethostname")) /* too long: EINVAL once permitted */
                return syscall(SYS_sethostname, "x", 100000);
        if (!strcmp(name, "init_module"))
                return syscall(SYS_init_module, NULL, 0, "");
        if (!strcmp(name, "open_by_handle_at"))
                return syscall(SYS_open_by_handle_at, -1, NULL, 0);
        if (!strcmp(name, "perf_event_open"))
                return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
        if (!strcmp(name, "syslog")) /* not in the seccomp allow-list; a bad length: EINVAL */
                return syscall(SYS_syslog, 3 /* READ_ALL */, NULL, -1);
        if (!strcmp(name, "clone3")) /* a too-small struct: EINVAL once permitted */
                return syscall(SYS_clone3, NULL, 0);
        if (!strcmp(name, "swapon"))
                return syscall(SYS_swapon, "/nonexistent-probe-target", 0);
        errno = EDOM; /* unknown name */
        return -1;
}

static const char *syscall_result(const char *name)
{
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return errno_name(errno);
        if (pid == 0)
                _exit(try_syscall(name) < 0 ? (errno & 0xff) : 0);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return errno_name(errno);
        if (WIFSIGNALED(status))
                return WTERMSIG(status) == SIGSYS ? "SIGSYS" : "KILLED";
        if (WEXITSTATUS(status) == EDOM)
                return "UNKNOWN";
        return errno_name(WEXITSTATUS(status));
}

static int syscalls(int argc, char **argv)
{
        bool first = true;
        printf("{\"syscalls\":{");
        for (int i = 0; i < argc; i++) {
                const char *r = syscall_result(argv[i]);
                put_key(argv[i], &first);
                put_str(r);
        }
        printf("}}\n");
        return 0;
}

/* ---- write, exit, kill ---- */

static int try_write(const char *path)
{
        int e = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "probe\n", 6) != 6)
                e = errno;
        if (fd >= 0 && close(fd) < 0 && !e)
                e = errno;
        printf("{\"write\":{\"path\":");
        put_str(path);
        printf(",\"result\":");
        put_str(errno_name(e));
        printf("}}\n");
        return e ? 1 : 0;
}

static int signal_number(const char *s)
{
        static const struct {
                const char *name;
                int sig;
        } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
                    {"KILL", SIGKILL}, {"SEGV", SIGSEGV}, {"PIPE", SIGPIPE}, {"TERM", SIGTERM},
                    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"SYS", SIGSYS}};
        if (!strncmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                if (!strcmp(s, sigs[i].name))
                        return sigs[i].sig;
        return atoi(s);
}

static int kill_self(const char *s)
{
        int sig = signal_number(s);
        if (sig <= 0 || sig >= NSIG)
                return 2;
        signal(sig, SIG_DFL);
        fflush(stdout);
        kill(getpid(), sig);
        return 3; /* the signal was blocked or ignored */
}

/* ---- open, landlock ---- */

static int try_open(const char *path, bool w)
{
        char buf[65] = {0};
        int e = 0;
        int fd = open(path, (w ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
        if (fd < 0)
                e = errno;
        else if (!w && read(fd, buf, sizeof(buf) - 1) < 0)
                e = errno;
        if (fd >= 0)
                close(fd);
        printf("{\"open\":{\"path\":");
        put_str(path);
        printf(",\"result\":");
        put_str(errno_name(e));
        printf(",\"data\":");
        put_str(buf);
        printf("}}\n");
        return e ? 1 : 0;
}

/* ---- stat, unshare-user (user namespaces) ---- */

static int try_stat(const char *path)
{
        struct stat st;
        int e = lstat(path, &st) < 0 ? errno : 0;
        printf("{\"stat\":{\"path\":");
        put_str(path);
        printf(",\"result\":");
        put_str(errno_name(e));
        if (!e)
                printf(",\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\"", (unsigned)st.st_uid,
                       (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
        printf("}}\n");
        return e ? 1 : 0;
}

static int landlock_abi(void)
{
        long v = syscall(444 /* landlock_create_ruleset */, NULL, 0, 1 /* VERSION */);
        printf("{\"landlock\":{\"abi\":");
        if (v < 0)
                put_str(errno_name(errno));
        else
                printf("%ld", v);
        printf("}}\n");
        return 0;
}

/* ---- cgroup limits: forkbomb, alloc, cgmount ---- */

static int forkbomb(long max)
{
        pid_t *kids = calloc((size_t)max, sizeof(*kids));
        long n = 0;
        int e = 0;
        if (!kids)
                return 1;
        for (; n < max; n++) {
                pid_t p = fork();
                if (p < 0) {
                        e = errno;
                        break;
                }
                if (p == 0) {
                        for (;;)
                                pause();
                }
                kids[n] = p;
        }
        for (long i = 0; i < n; i++)
                kill(kids[i], SIGKILL);
        for (long i = 0; i < n; i++)
                while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
                        ;
        printf("{\"forkbomb\":{\"forked\":%ld,\"errno\":", n);
        put_str(errno_name(e));
        printf("}}\n");
        free(kids);
        return 0;
}

static int alloc(long mib)
{
        long page = sysconf(_SC_PAGESIZE);
        for (long i = 0; i < mib; i++) {
                char *p = malloc(1 << 20);
                if (!p)
                        return 1;
                for (long o = 0; o < (1 << 20); o += page)
                        p[o] = 1;
        }
        printf("{\"alloc\":{\"mib\":%ld}}\n", mib);
        return 0;
}

static int cgmount(void)
{
        static const char *const fs[][2] = {{"cgroup", "memory"}, {"cgroup2", NULL}};
        bool first = true;
        (void)mkdir("/probe-cg", 0700);
        printf("{\"cgmount\":{");
        for (int i = 0; i < 2; i++) {
                int r = mount("none", "/probe-cg", fs[i][0], 0, fs[i][1]);
                put_key(fs[i][0], &first);
                put_str(errno_name(r < 0 ? errno : 0));
                if (r == 0)
                        umount2("/probe-cg", MNT_DETACH);
        }
        printf("}}\n");
        return 0;
}

/* In a child, so the probe itself keeps its namespaces; the child reports its errno. */
static int try_unshare_user(void)
{
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
                _exit(unshare(CLONE_NEWUSER) < 0 ? (errno & 0xff) : 0);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
                return 2;
        printf("{\"unshare-user\":");
        put_str(errno_name(WEXITSTATUS(st)));
        printf("}\n");
        return WEXITSTATUS(st) ? 1 : 0;
}

/* ---- probe all | serve ---- */

static int identity(void)
{
        bool first = true;
        char attr[256] = "";
        int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, attr, sizeof(attr) - 1);
        attr[n < 0 ? 0 : n] = 0;
        attr[strcspn(attr, "\n")] = 0;
        if (fd >= 0)
                close(fd);
        putchar('{');
        put_lines("cgroup", "/proc/self/cgroup", &first);
        put_key("attr", &first);
        put_str(attr);
        put_lines("uid_map", "/proc/self/uid_map", &first);
        put_lines("gid_map", "/proc/self/gid_map", &first);
        put_lines("limits", "/proc/self/limits", &first);
        put_lines("oom_score_adj", "/proc/self/oom_score_adj", &first);
        printf("}\n");
        return 0;
}

static int report_all(bool serve)
{
        report();
        identity();
        fflush(stdout);
        while (serve)
                pause();
        return 0;
}

/* udp-recv PORT: print the first datagram to 0.0.0.0:PORT (and exit); udp-send IP PORT MSG. */
static int udp(const char *ip, const char *port, const char *msg)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
        if (fd < 0 || (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1)) {
                perror("udp");
                return 1;
        }
        if (ip) {
                if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
                        perror("sendto");
                        return 1;
                }
                return 0;
        }
        char buf[512];
        ssize_t n;
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            (n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0) {
                perror("udp-recv");
                return 1;
        }
        buf[n] = 0;
        printf("%s\n", buf);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return report();
        if (!strcmp(argv[1], "syscall"))
                return syscalls(argc - 2, argv + 2);
        if (!strcmp(argv[1], "write") && argc == 3)
                return try_write(argv[2]);
        if (!strcmp(argv[1], "exit") && argc == 3)
                return atoi(argv[2]);
        if (!strcmp(argv[1], "kill") && argc == 3)
                return kill_self(argv[2]);
        if (!strcmp(argv[1], "open") && (argc == 3 || (argc == 4 && !strcmp(argv[3], "w"))))
                return try_open(argv[2], argc == 4);
        if (!strcmp(argv[1], "landlock") && argc == 2)
                return landlock_abi();
        if (!strcmp(argv[1], "stat") && argc == 3)
                return try_stat(argv[2]);
        if (!strcmp(argv[1], "unshare-user") && argc == 2)
                return try_unshare_user();
        if (!strcmp(argv[1], "forkbomb"))
                return forkbomb(argc == 3 ? atol(argv[2]) : 10000);
        if (!strcmp(argv[1], "alloc") && argc == 3)
                return alloc(atol(argv[2]));
        if (!strcmp(argv[1], "cgmount"))
                return cgmount();
        if (!strcmp(argv[1], "udp-recv") && argc == 3)
                return udp(NULL, argv[2], NULL);
        if (!strcmp(argv[1], "udp-send") && argc == 5)
                return udp(argv[2], argv[3], argv[4]);
        if (!strcmp(argv[1], "all") && argc == 2)
                return report_all(false);
        if (!strcmp(argv[1], "serve") && argc == 2)
                return report_all(true);
        fprintf(stderr,
                "usage: probe [syscall NAME... | write PATH | exit N | kill SIG | open PATH [w] "
                "| landlock | stat PATH | unshare-user | forkbomb [MAX] | alloc MIB | cgmount | "
                "udp-recv PORT | udp-send IP PORT MSG | all | serve]\n");
        return 2;
}
