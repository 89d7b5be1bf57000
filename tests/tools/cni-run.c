/* SPDX-License-Identifier: Apache-2.0 */
/* Drive the CNI runner (src/lib/pod/cni.c) by hand, for tests and bench/cni.sh:
 *   cni-run add NETD NAME NETNS IFNAME CONTAINERID CACHEDIR [ARGS]   prints the result
 *   cni-run del CACHEDIR CONTAINERID IFNAME
 * RKT_CNI_PLUGIN_DIR overrides /usr/lib/cni. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "pod/cni.h"

int main(int argc, char **argv)
{
        rk_error err = RK_ERROR_INIT;
        const char *dir = getenv("RKT_CNI_PLUGIN_DIR");
        if (argc >= 8 && !strcmp(argv[1], "add")) {
                json_t *conf = NULL, *res = NULL;
                int cfd = open(argv[7], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cfd < 0) {
                        perror(argv[7]);
                        return 1;
                }
                const char *to = getenv("RKT_CNI_TIMEOUT_MS");
                struct rk_cni_attach a = {dir,
                                          argv[6],
                                          argv[4],
                                          argv[5],
                                          argc > 8 ? argv[8] : NULL,
                                          cfd,
                                          to ? (unsigned)atoi(to) : 0};
                if (rk_cni_load(argv[2], argv[3], &conf, &err) < 0 ||
                    rk_cni_add(&a, conf, &res, &err) < 0) {
                        fprintf(stderr, "cni-run: %s\n", err.msg);
                        return 1;
                }
                char *s = json_dumps(res, JSON_COMPACT);
                puts(s);
                free(s);
                json_decref(res);
                json_decref(conf);
                return 0;
        }
        if (argc == 5 && !strcmp(argv[1], "del")) {
                int cfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                char name[256];
                snprintf(name, sizeof(name), "%s-%s.json", argv[3], argv[4]);
                if (cfd < 0 || rk_cni_del_cached(cfd, name, dir, NULL, &err) < 0) {
                        fprintf(stderr, "cni-run: %s\n",
                                cfd < 0 ? "cannot open the cache dir" : err.msg);
                        return 1;
                }
                return 0;
        }
        fprintf(stderr, "usage: cni-run add NETD NAME NETNS IFNAME CID CACHEDIR [ARGS] | del "
                        "CACHEDIR CID IFNAME\n");
        return 2;
}
