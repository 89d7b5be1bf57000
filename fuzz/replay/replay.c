/* SPDX-License-Identifier: Apache-2.0 */
/* Standalone driver for the fuzz harnesses: feeds every file named on the command line (or
 * found in a named directory) to LLVMFuzzerTestOneInput, so `make check` replays corpora and
 * past crashes with gcc, without libFuzzer. Prints one line per directory and a total. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                perror(path);
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_size > (64 << 20)) {
                fprintf(stderr, "%s: unreadable or larger than 64 MiB\n", path);
                close(fd);
                return -1;
        }
        size_t n = (size_t)st.st_size;
        uint8_t *buf = malloc(n ? n : 1);
        size_t got = 0;
        while (buf && got < n) {
                ssize_t r = read(fd, buf + got, n - got);
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        close(fd);
        if (!buf || got != n) {
                fprintf(stderr, "%s: short read\n", path);
                free(buf);
                return -1;
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 0;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
        long total = 0;
        int failed = 0;
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        failed = 1;
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed |= run_file(argv[i]) < 0;
                        total++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                if (!d) {
                        perror(argv[i]);
                        failed = 1;
                        continue;
                }
                char **names = NULL;
                size_t nn = 0;
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        char **t = realloc(names, (nn + 1) * sizeof(*names));
                        if (!t)
                                abort();
                        names = t;
                        if (asprintf(&names[nn++], "%s/%s", argv[i], de->d_name) < 0)
                                abort();
                }
                closedir(d);
                if (nn)
                        qsort(names, nn, sizeof(*names), cmp);
                for (size_t k = 0; k < nn; k++) {
                        struct stat fst;
                        if (stat(names[k], &fst) == 0 && S_ISREG(fst.st_mode)) {
                                failed |= run_file(names[k]) < 0;
                                total++;
                        }
                        free(names[k]);
                }
                free(names);
        }
        printf("replayed %ld inputs\n", total);
        return failed;
}
